package model

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

// smallConfig is a fast network with masks and noise.
func smallConfig() Config {
	return Config{
		ImageSize: [2]int{16, 16}, EmbeddingDim: 8, GconvDim: 8, GconvHiddenDim: 12,
		GconvNumLayers: 2, GconvPooling: "avg", RefinementDims: []int{8, 4},
		Normalization: "batch", Activation: "leakyrelu-0.2", MaskSize: 4,
		MLPNormalization: "none", LayoutNoiseDim: 2, Vocab: tinyVocab(),
	}
}

func smallGenerator(t *testing.T) *Generator {
	t.Helper()
	g, err := New(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(7)
	return g
}

func encodeOne(t *testing.T, g *Generator, src string) *Batch {
	t.Helper()
	graphs, err := ParseGraphs([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(graphs, g.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"mask not power of two", func(c *Config) { c.MaskSize = 12 }, "power of two"},
		{"image not divisible", func(c *Config) { c.ImageSize = [2]int{18, 16} }, "not divisible by 2^2"},
		{"unknown normalization", func(c *Config) { c.Normalization = "layer" }, `normalization "layer"`},
		{"unknown activation", func(c *Config) { c.Activation = "gelu" }, `activation "gelu"`},
		{"bad slope", func(c *Config) { c.Activation = "leakyrelu-x" }, `activation "leakyrelu-x"`},
		{"unknown mlp norm", func(c *Config) { c.MLPNormalization = "instance" }, "mlp_normalization"},
		{"unknown pooling", func(c *Config) { c.GconvPooling = "max" }, "gconv_pooling"},
		{"no refinement", func(c *Config) { c.RefinementDims = nil }, "refinement_dims is empty"},
		{"zero dim", func(c *Config) { c.GconvDim = 0 }, "gconv_dim"},
		{"huge", func(c *Config) { c.RefinementDims = []int{16384, 16384} }, "parameters"},
		{"no vocab", func(c *Config) { c.Vocab = nil }, "no vocab"},
		{"vocab without __image__", func(c *Config) { c.Vocab = &Vocab{PredNameToIdx: map[string]int{}} }, "__image__"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallConfig()
			tc.edit(&c)
			_, err := New(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	c := smallConfig()
	if err := c.Validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	v, _ := json.Marshal(tinyVocab())
	kw := `{"image_size": 32, "embedding_dim": 8, "gconv_dim": 8, "gconv_hidden_dim": 8,
		"gconv_num_layers": 1, "refinement_dims": [4, 4], "mask_size": null, "box_anchor": "x", "vocab": ` + string(v) + `}`
	cfg, warnings, err := ParseConfig([]byte(kw))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ImageSize != [2]int{32, 32} || cfg.MaskSize != 0 || cfg.Normalization != "batch" || cfg.GconvPooling != "avg" {
		t.Errorf("config %+v", cfg)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q, want none: box_anchor is a retired key the release's files carry", warnings)
	}
	if got := RetiredKwargs([]byte(kw)); len(got) != 1 || got[0] != "box_anchor" {
		t.Errorf("retired keys %q, want box_anchor", got)
	}
	dropped, err := DropRetiredKwargs([]byte(kw))
	if err != nil || len(RetiredKwargs(dropped)) != 0 {
		t.Errorf("after dropping: %s, %v", dropped, err)
	}
	if again, _, err := ParseConfig(dropped); err != nil || again.ImageSize != cfg.ImageSize || again.Vocab == nil {
		t.Errorf("config without retired keys: %+v, %v", again, err)
	}
	unknown := strings.Replace(kw, `"box_anchor": "x"`, `"zoom": 2, "tilt": 1`, 1)
	if _, warnings, err := ParseConfig([]byte(unknown)); err != nil || len(warnings) != 1 ||
		warnings[0] != `ignoring unknown model_kwargs keys "tilt", "zoom"` {
		t.Errorf("unknown keys: warnings %q, %v; want one line naming both", warnings, err)
	}
	_, _, err = ParseConfig([]byte(`{"image_size": [32, 32]}`))
	if err == nil || !strings.Contains(err.Error(), "embedding_dim") {
		t.Errorf("missing key: error %v", err)
	}
	_, _, err = ParseConfig([]byte(strings.Replace(kw, `"embedding_dim": 8`, `"embedding_dim": "8"`, 1)))
	if err == nil || !strings.Contains(err.Error(), "embedding_dim") {
		t.Errorf("mistyped key: error %v", err)
	}
}

func TestDegenerateBoxesGiveFiniteImages(t *testing.T) {
	g := smallGenerator(t)
	b := encodeOne(t, g, `{"objects": ["sky", "grass", "sheep"], "relationships": [[0, "above", 1]]}`)
	boxes := nn.FromData([]float32{
		0.5, 0.5, 0.5, 0.5, // a point
		0.7, 0.2, 0.3, 0.9, // inverted
		0, 0, 1, 1e-12, // a sliver
		0, 0, 1, 1, // __image__
	}, 4, 4)
	out, err := g.Forward(b, Options{Boxes: boxes, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !nn.AllFinite(out.Img.Data) || !nn.AllFinite(out.Layout.Data) {
		t.Fatal("degenerate boxes produced NaN or Inf")
	}
	for _, img := range Deprocess(out.Img) {
		if img.Rect.Dx() != 16 {
			t.Fatalf("image width %d", img.Rect.Dx())
		}
	}
}

func TestSeedDeterminesNoise(t *testing.T) {
	g := smallGenerator(t)
	b := encodeOne(t, g, `[{"objects": ["sky", "grass"]}, {"objects": ["road", "car"]}]`)
	a1, _ := g.Forward(b, Options{Seed: 5})
	a2, _ := g.Forward(b, Options{Seed: 5})
	c, _ := g.Forward(b, Options{Seed: 6})
	if maxAbsDiff(a1.Img, a2.Img) != 0 {
		t.Error("same seed, different images")
	}
	if maxAbsDiff(a1.Img, c.Img) == 0 {
		t.Error("different seeds, same image")
	}
	// Image 1 of a batch at seed 5 is image 0 of a batch at seed 6.
	one := encodeOne(t, g, `{"objects": ["road", "car"]}`)
	alone, _ := g.Forward(one, Options{Seed: 6})
	hw := 3 * 16 * 16
	if d := maxAbsDiff(nn.FromData(a1.Img.Data[hw:], 1, 3, 16, 16), alone.Img); d != 0 {
		t.Errorf("image depends on its batch: max diff %g", d)
	}
	if m, v := meanVariance(Noise(1, 4, 8, 16, 16).Data); math.Abs(m) > 0.05 || math.Abs(v-1) > 0.05 {
		t.Errorf("noise mean %g variance %g, want standard normal", m, v)
	}
}

func maxAbsDiff(a, b *nn.Tensor) float64 {
	worst := 0.0
	for i := range a.Data {
		worst = max(worst, math.Abs(float64(a.Data[i]-b.Data[i])))
	}
	return worst
}

func meanVariance(v []float32) (float64, float64) {
	var s, s2 float64
	for _, x := range v {
		s += float64(x)
		s2 += float64(x) * float64(x)
	}
	n := float64(len(v))
	return s / n, s2/n - (s/n)*(s/n)
}

func TestForwardRejectsBadOptions(t *testing.T) {
	g := smallGenerator(t)
	b := encodeOne(t, g, `{"objects": ["sky", "grass"]}`)
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		opt  Options
		want string
	}{
		{"boxes shape", Options{Boxes: nn.New(2, 4)}, "want (3, 4)"},
		{"boxes NaN", Options{Boxes: nn.FromData([]float32{0, 0, 1, nan, 0, 0, 1, 1, 0, 0, 1, 1}, 3, 4)}, "NaN"},
		{"masks shape", Options{Masks: nn.New(3, 8, 8)}, "want (3, 4, 4)"},
		{"noise shape", Options{Noise: nn.New(1, 3, 16, 16)}, "want [1 2 16 16]"},
	} {
		_, err := g.Forward(b, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	bad := &Batch{Objs: []int{99}, ObjToImg: []int{0}, NumImages: 1}
	if _, err := g.Forward(bad, Options{}); err == nil || !strings.Contains(err.Error(), "outside the vocabulary") {
		t.Errorf("bad object id: error %v", err)
	}
	if _, err := g.Forward(&Batch{NumImages: 1}, Options{}); err == nil || !strings.Contains(err.Error(), "empty batch") {
		t.Errorf("empty batch: error %v", err)
	}
}

func TestLoadStateMismatch(t *testing.T) {
	ck, err := weights.Load(filepath.Join("..", "testdata", "tiny_masks.legacy.pt"))
	if err != nil {
		t.Fatal(err)
	}
	// The same weights under another architecture's config.
	cfg, _, err := ParseConfig(ck.ModelKwargs)
	if err != nil {
		t.Fatal(err)
	}
	cfg.GconvNumLayers = 2
	cfg.RefinementDims = []int{32, 16, 4}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = g.LoadState(StateMap(ck.Model))
	var sm *StateMismatchError
	if !errors.As(err, &sm) {
		t.Fatalf("error %v, want a StateMismatchError", err)
	}
	if len(sm.Unexpected) == 0 || !strings.Contains(err.Error(), "gconv_net.gconvs.1.net1.0.weight") {
		t.Errorf("unexpected gconv layer not listed: %v", err)
	}
	if len(sm.WrongShape) == 0 || !strings.Contains(err.Error(), "refinement_net.refinement_modules.2.net.0.weight") {
		t.Errorf("mis-shaped CRN weight not listed: %v", err)
	}

	// Missing entries, and NaN weights.
	state := StateMap(ck.Model)
	delete(state, "box_net.0.weight")
	g2, _, _ := FromCheckpoint(ck)
	if err := g2.LoadState(state); err == nil || !strings.Contains(err.Error(), "missing (1): box_net.0.weight") {
		t.Errorf("missing weight: error %v", err)
	}
	state = StateMap(ck.Model)
	nanW := state["box_net.0.bias"].Clone()
	nanW.Data[0] = float32(math.NaN())
	state["box_net.0.bias"] = nanW
	if err := g2.LoadState(state); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN weight: error %v", err)
	}
}

func TestDeprocess(t *testing.T) {
	// Normalised values 0 and 1 per channel become mean and mean+std:
	// R 0.485, 0.714; G 0.456, 0.680; B 0.406, 0.631. The stretch maps the
	// image's minimum (B, 0.406) to 0 and its maximum (R, 0.714) to 255.
	img := nn.FromData([]float32{0, 1, 0, 1, 0, 1}, 1, 3, 1, 2)
	rgba := Deprocess(img)[0]
	lo, hi := 0.406, 0.229+0.485
	for i, v := range []float64{0.485, 0.485 + 0.229} {
		want := uint8((v - lo) / (hi - lo) * 255)
		if got := rgba.Pix[4*i]; got != want && got+1 != want {
			t.Errorf("red pixel %d = %d, want %d", i, got, want)
		}
	}
	if rgba.Pix[2] != 0 || rgba.Pix[4+0] != 255 || rgba.Pix[3] != 255 {
		t.Errorf("pixels %v: want blue of pixel 0 at 0, red of pixel 1 at 255, opaque", rgba.Pix)
	}
}

func TestSetBoxBias(t *testing.T) {
	g := smallGenerator(t)
	last := g.boxNet.lins[len(g.boxNet.lins)-1]
	clear(last.W.Value.Data)
	g.SetBoxBias([4]float32{0.25, 0.25, 0.75, 0.75})
	out, err := g.Forward(encodeOne(t, g, `{"objects": ["sky", "grass"]}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out.BoxesPred.Data {
		if want := []float32{0.25, 0.25, 0.75, 0.75}[i%4]; v != want {
			t.Fatalf("box value %d = %g, want the bias %g", i, v, want)
		}
	}
}
