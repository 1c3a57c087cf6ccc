package model

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/nn"
)

// optionsGenerator has all of this program's options on.
func optionsGenerator(t *testing.T) *Generator {
	t.Helper()
	cfg := smallConfig()
	cfg.AppearanceDim, cfg.BoxSigmoid, cfg.InstanceEmbeddings = 3, true, 2
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(7)
	return g
}

// TestOptionsOffKeepReleaseKwargs: a config without the options writes the
// release's model_kwargs keys only, and one with them reads back whole.
func TestOptionsOffKeepReleaseKwargs(t *testing.T) {
	b, _ := json.Marshal(smallConfig())
	for _, k := range []string{"appearance_dim", "box_sigmoid", "instance_embeddings"} {
		if strings.Contains(string(b), k) {
			t.Errorf("release config's kwargs hold %q: %s", k, b)
		}
	}
	g := optionsGenerator(t)
	b, _ = json.Marshal(g.Config)
	cfg, warnings, err := ParseConfig(b)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("ParseConfig: %v, warnings %v", err, warnings)
	}
	if cfg.AppearanceDim != 3 || !cfg.BoxSigmoid || cfg.InstanceEmbeddings != 2 {
		t.Errorf("options lost in the round trip: %+v", cfg)
	}
	// The config's bound on the parameters grows by what the options add.
	plain := smallGenerator(t)
	pc := plain.Config
	if got, want := g.Config.numParams()-pc.numParams(), int64(g.NumParams()-plain.NumParams()); got != want {
		t.Errorf("the options add %d parameters to the config's count, %d to the generator", got, want)
	}
}

// TestAppearanceFromSeed: the appearance vectors come from the seed (same
// seed, same image; an image alone equals itself in a batch), change the
// image when they change, and given explicitly reproduce the drawn ones.
func TestAppearanceFromSeed(t *testing.T) {
	g := optionsGenerator(t)
	cfg := g.Config
	cfg.LayoutNoiseDim = 0 // only the appearance vectors vary
	g0, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g0.InitRandom(7)
	b := encodeOne(t, g0, `[{"objects": ["sky", "grass"]}, {"objects": ["road", "car", "car"]}]`)
	a1, _ := g0.Forward(b, Options{Seed: 5})
	a2, _ := g0.Forward(b, Options{Seed: 5})
	c, _ := g0.Forward(b, Options{Seed: 6})
	if maxAbsDiff(a1.Img, a2.Img) != 0 || maxAbsDiff(a1.Img, c.Img) == 0 {
		t.Error("the seed does not decide the image through the appearance vectors")
	}
	one := encodeOne(t, g0, `{"objects": ["road", "car", "car"]}`)
	alone, _ := g0.Forward(one, Options{Seed: 6})
	hw := 3 * 16 * 16
	if d := maxAbsDiff(nn.FromData(a1.Img.Data[hw:], 1, 3, 16, 16), alone.Img); d != 0 {
		t.Errorf("image depends on its batch: max diff %g", d)
	}
	z := AppearanceNoise(5, b.ObjToImg, b.NumImages, 3)
	given, err := g0.Forward(b, Options{Seed: 5, Appearance: z})
	if err != nil || maxAbsDiff(given.Img, a1.Img) != 0 {
		t.Errorf("explicit appearance vectors differ from the drawn ones (%v)", err)
	}
	if _, err := g0.Forward(b, Options{Appearance: nn.New(2, 3)}); err == nil || !strings.Contains(err.Error(), "appearance vectors have shape") {
		t.Errorf("wrong-shaped appearance vectors: %v", err)
	}
	if _, err := smallGenerator(t).Forward(b, Options{Appearance: z}); err == nil || !strings.Contains(err.Error(), "appearance_dim 0") {
		t.Errorf("appearance vectors for a model without them: %v", err)
	}
	if m, v := meanVariance(AppearanceNoise(1, make([]int, 4000), 1, 4).Data); math.Abs(m) > 0.05 || math.Abs(v-1) > 0.05 {
		t.Errorf("appearance noise mean %g variance %g, want standard normal", m, v)
	}
}

// TestBoxSigmoidInsideImage: even a box net pushed far out keeps its boxes
// in [0, 1], and the box bias still sets the initial boxes.
func TestBoxSigmoidInsideImage(t *testing.T) {
	g := optionsGenerator(t)
	last := g.boxNet.lins[len(g.boxNet.lins)-1]
	clear(last.W.Value.Data)
	g.SetBoxBias([4]float32{0.25, 0.25, 0.75, 0.75})
	b := encodeOne(t, g, `{"objects": ["sky", "grass"]}`)
	out, err := g.Forward(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out.BoxesPred.Data {
		if want := []float32{0.25, 0.25, 0.75, 0.75}[i%4]; math.Abs(float64(v-want)) > 1e-6 {
			t.Fatalf("box value %d = %g, want the bias %g", i, v, want)
		}
	}
	for i := range last.B.Value.Data {
		last.B.Value.Data[i] = 50 * float32(2*(i%2)-1)
	}
	out, _ = g.Forward(b, Options{})
	for i, v := range out.BoxesPred.Data {
		if v < 0 || v > 1 {
			t.Fatalf("box value %d = %g, outside [0, 1]", i, v)
		}
	}
}

func TestInstanceIndex(t *testing.T) {
	// Two graphs: car, road, car, car | car, car.
	b := &Batch{Objs: []int{8, 7, 8, 8, 8, 8}, ObjToImg: []int{0, 0, 0, 0, 1, 1}, NumImages: 2}
	if got, want := InstanceIndex(b, nil, 4), []int{0, 0, 1, 2, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("graph order: %v, want %v", got, want)
	}
	if got, want := InstanceIndex(b, nil, 2), []int{0, 0, 1, 1, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("capped at 1: %v, want %v", got, want)
	}
	boxes := nn.FromData([]float32{
		0.6, 0, 0.8, 1, // car, rightmost of graph 0
		0, 0, 1, 1,
		0.1, 0, 0.2, 1, // car, leftmost
		0.3, 0, 0.5, 1,
		0.5, 0, 0.6, 1,
		0.0, 0, 0.1, 1,
	}, 6, 4)
	if got, want := InstanceIndex(b, boxes, 4), []int{2, 0, 0, 1, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("left to right: %v, want %v", got, want)
	}
	// The embeddings make two cars differ.
	g := optionsGenerator(t)
	enc := encodeOne(t, g, `{"objects": ["car", "car"]}`)
	out, _ := g.Forward(enc, Options{})
	if maxAbsDiff(nn.FromData(out.BoxesPred.Data[:4], 4), nn.FromData(out.BoxesPred.Data[4:8], 4)) == 0 {
		t.Error("two instances of one category got the same box")
	}
	if _, err := g.Forward(enc, Options{Instances: []int{0, 5, 0}}); err == nil || !strings.Contains(err.Error(), "instance index 5") {
		t.Errorf("bad instance index: %v", err)
	}
}

// TestAppearanceScale: a scale of one half draws the vectors of scale 1
// halved.
func TestAppearanceScale(t *testing.T) {
	g := optionsGenerator(t)
	g.Config.AppearanceScale = 0.5
	b := encodeOne(t, g, `{"objects": ["sky", "grass", "car"]}`)
	z := AppearanceNoise(9, b.ObjToImg, b.NumImages, 3)
	for i := range z.Data {
		z.Data[i] *= 0.5
	}
	drawn, _ := g.Forward(b, Options{Seed: 9})
	given, _ := g.Forward(b, Options{Seed: 9, Appearance: z})
	if d := maxAbsDiff(drawn.Img, given.Img); d != 0 {
		t.Errorf("scaled draw differs from the halved vectors by %g", d)
	}
	g.Config.AppearanceScale = 11
	if err := g.Config.Validate(); err == nil || !strings.Contains(err.Error(), "appearance_scale") {
		t.Errorf("appearance_scale 11: %v", err)
	}
}
