package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
	"github.com/sg2im-go/sg2im/weights"
)

func load(t *testing.T, name string) (*Engine, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var e Engine
	info, err := e.Load(name, data)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != name || len(info.Objects) == 0 || info.ImageSize != [2]int{32, 32} {
		t.Fatalf("info %+v", info)
	}
	return &e, data
}

var sheep = model.SceneGraph{
	Objects:       []string{"sky", "grass", "sheep"},
	Relationships: []model.Relationship{{Subject: 0, Predicate: "above", Object: 1}, {Subject: 2, Predicate: "inside", Object: 1}},
}

// TestGenerateMatchesModel checks the engine draws what the Go API (and so
// `sg2im generate --seed`) draws for the same seed.
func TestGenerateMatchesModel(t *testing.T) {
	e, data := load(t, "tiny_masks.zip.pt")
	res, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 11, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	ck, _ := weights.Decode(data)
	g, _, _ := model.FromCheckpoint(ck)
	for i := 0; i < 3; i++ {
		b, _ := model.Encode([]model.SceneGraph{sheep}, g.Config.Vocab)
		out, err := g.Forward(b, model.Options{Seed: 11 + uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		want := model.Deprocess(out.Img)[0].Pix
		if !bytes.Equal(res.RGBA[i], want) || res.Seeds[i] != 11+uint64(i) {
			t.Errorf("image %d (seed %d) differs from the model's", i, res.Seeds[i])
		}
	}
	if len(res.Boxes) != 3 || len(res.Masks) != 3 || len(res.Masks[0]) != 64 || res.MaskSize != 8 {
		t.Errorf("layout: %d boxes, %d masks", len(res.Boxes), len(res.Masks))
	}
	if res.Timings["network"] <= 0 {
		t.Errorf("timings %v", res.Timings)
	}
}

func TestGenerateWithBoxes(t *testing.T) {
	e, _ := load(t, "tiny_masks.legacy.pt")
	plain, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	boxes := [][4]float32{{0, 0, 1, 0.5}, {0, 0.5, 1, 1}, {0.1, 0.6, 0.4, 0.9}}
	moved, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 1, Boxes: boxes})
	if err != nil {
		t.Fatal(err)
	}
	if moved.Boxes[2] != boxes[2] {
		t.Errorf("returned boxes %v, want the given %v", moved.Boxes, boxes)
	}
	if bytes.Equal(plain.RGBA[0], moved.RGBA[0]) {
		t.Error("moving the boxes did not change the image")
	}
}

// A pinned box is drawn where given; the others stay where the model puts
// them, and with nothing pinned the image is the plain one.
func TestGeneratePinnedBoxes(t *testing.T) {
	e, _ := load(t, "tiny_masks.legacy.pt")
	plain, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	boxes := [][4]float32{{0, 0, 1, 0.5}, {0, 0.5, 1, 1}, {0.1, 0.6, 0.4, 0.9}}
	one, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 1, Count: 2, Boxes: boxes, Pinned: []bool{false, false, true}})
	if err != nil {
		t.Fatal(err)
	}
	if one.Boxes[2] != boxes[2] || one.Boxes[0] != plain.Boxes[0] || one.Boxes[1] != plain.Boxes[1] {
		t.Errorf("boxes %v: want the predicted %v with box 2 at %v", one.Boxes, plain.Boxes, boxes[2])
	}
	if bytes.Equal(plain.RGBA[0], one.RGBA[0]) {
		t.Error("pinning a moved box did not change the image")
	}
	none, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 1, Boxes: boxes, Pinned: []bool{false, false, false}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain.RGBA[0], none.RGBA[0]) {
		t.Error("with nothing pinned the image differs from the plain one")
	}
	if _, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Boxes: boxes, Pinned: []bool{true}}); err == nil || !strings.Contains(err.Error(), "1 pinned flags for 3 objects") {
		t.Errorf("wrong pinned length: %v", err)
	}
}

func TestGenerateErrors(t *testing.T) {
	var empty Engine
	if _, err := empty.Generate(&protocol.GenerateRequest{Graph: sheep}); !errors.Is(err, ErrNoModel) {
		t.Errorf("no model: %v", err)
	}
	e, _ := load(t, "tiny_masks.zip.pt")
	tooMany := model.SceneGraph{Objects: []string{"sky"}}
	for range model.MaxTriplesPerGraph + 1 {
		tooMany.Relationships = append(tooMany.Relationships, model.Relationship{Subject: 0, Predicate: "above", Object: 0})
	}
	for _, tc := range []struct {
		req   protocol.GenerateRequest
		field string
		index int
		want  string
	}{
		{protocol.GenerateRequest{Graph: model.SceneGraph{Objects: []string{"sky", "grss"}}, Count: 2}, "objects", 1, `object 1: unknown object "grss"; did you mean "grass"`},
		{protocol.GenerateRequest{Graph: model.SceneGraph{Objects: []string{"sky"}, Relationships: []model.Relationship{{Subject: 0, Predicate: "abve", Object: 0}}}}, "relationships", 0, `"above"`},
		{protocol.GenerateRequest{Graph: model.SceneGraph{}}, "objects", -1, "no objects"},
		{protocol.GenerateRequest{Graph: model.SceneGraph{Objects: []string{"sky"}, Relationships: []model.Relationship{{Subject: 0, Predicate: "above", Object: 0}, {Subject: 0, Predicate: "above", Object: 3}}}}, "relationships", 1, "out of range"},
		{protocol.GenerateRequest{Graph: tooMany}, "relationships", -1, "4097 relationships, at most 4096"},
		{protocol.GenerateRequest{Graph: sheep, Boxes: [][4]float32{{0, 0, 1, 1}}}, "boxes", -1, "1 boxes for 3 objects"},
		{protocol.GenerateRequest{Graph: sheep, Count: 99}, "count", -1, "at most"},
	} {
		_, err := e.Generate(&tc.req)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || ie.Index != tc.index || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.80v: error %v, want field %q index %d and %q", tc.req.Graph, err, tc.field, tc.index, tc.want)
		}
		if strings.Contains(err.Error(), "graph 0") || strings.Contains(err.Error(), "sg2im inspect") {
			t.Errorf("%v: the page's one graph has no number, and the page has no command line", err)
		}
	}
	if _, err := e.Load("broken.pt", []byte("not a model")); err == nil || !strings.Contains(err.Error(), "broken.pt") {
		t.Errorf("bad model: %v", err)
	}
	if e.Info() == nil || e.Info().Name != "tiny_masks.zip.pt" {
		t.Error("a failed load replaced the model")
	}
}

func TestDecodeRequest(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{`, "bad request"},
		{`{"v": 0, "kind": "load", "load": {}}`, "version 0"},
		{`{"v": 1, "kind": "paint"}`, `unknown request kind "paint"`},
		{`{"v": 1, "kind": "generate"}`, "without a generate field"},
		{`{"v": 1, "kind": "generate", "generate": {"count": 100}}`, "count 100"},
	} {
		if _, err := protocol.DecodeRequest([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.want)
		}
	}
	r, err := protocol.DecodeRequest(protocol.Encode(protocol.Request{V: protocol.Version, ID: 4, Kind: protocol.KindGenerate,
		Generate: &protocol.GenerateRequest{Graph: sheep, Seed: 2}}))
	if err != nil || r.ID != 4 || len(r.Generate.Graph.Objects) != 3 {
		t.Errorf("round trip: %+v %v", r, err)
	}
}

// TestGenerateFromText checks the widget's path: a graph given in the
// one-line syntax draws what the same graph as JSON draws.
func TestGenerateFromText(t *testing.T) {
	e, _ := load(t, "tiny_masks.zip.pt")
	want, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Generate(&protocol.GenerateRequest{Text: "sky above grass; sheep inside grass", Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.RGBA[0], want.RGBA[0]) {
		t.Error("the text graph drew another image than the same graph as JSON")
	}
	if model.FormatText(got.Graph) != model.FormatText(sheep) {
		t.Errorf("returned graph %+v, want %+v", got.Graph, sheep)
	}
	// A graph with objects wins over text.
	both, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Text: "tree", Seed: 5})
	if err != nil || len(both.Graph.Objects) != 3 {
		t.Errorf("graph and text: %+v, %v; want the graph used", both, err)
	}
}

func TestGenerateTextErrors(t *testing.T) {
	e, _ := load(t, "tiny_masks.zip.pt")
	for _, tc := range []struct{ text, want string }{
		{"sheep inside grss", `did you mean "grass"`},
		{";;", "no objects"},
		{"#3 above grass", "no object name"},
		{"sheep near grass", `unknown predicate "near"`},
		{"sky above grass; unicorn", `unknown object "unicorn"`},
	} {
		_, err := e.Generate(&protocol.GenerateRequest{Text: tc.text})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "text" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want field \"text\" and %q", tc.text, err, tc.want)
		}
	}
}

// loadConfig loads into a fresh engine a model of cfg with random weights,
// or every weight huge (3e38, finite), through a safetensors file as the
// page sends one.
func loadConfig(t *testing.T, cfg model.Config, huge bool) *Engine {
	t.Helper()
	g, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(3)
	kw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ck := &weights.Checkpoint{ModelKwargs: kw, Model: g.State()}
	for _, x := range ck.Model {
		for i := range x.T.Data {
			if huge {
				x.T.Data[i] = 3e38
			}
		}
	}
	var b bytes.Buffer
	if err := ck.WriteSafetensors(&b); err != nil {
		t.Fatal(err)
	}
	var e Engine
	if _, err := e.Load("test.safetensors", b.Bytes()); err != nil {
		t.Fatal(err)
	}
	return &e
}

// narrowConfig is a thin network at 256 x 256: one image of a full graph
// fits the activation budget, sixteen do not.
func narrowConfig() model.Config {
	cfg := model.DefaultConfig(model.NewVocab([]string{"sky", "grass", "sheep"}, []string{"above", "inside"}))
	cfg.ImageSize = [2]int{256, 256}
	cfg.EmbeddingDim, cfg.GconvDim, cfg.GconvHiddenDim, cfg.GconvNumLayers = 8, 8, 8, 1
	cfg.RefinementDims, cfg.LayoutNoiseDim, cfg.MaskSize = []int{4, 4}, 2, 16
	return cfg
}

func TestGenerateBoundsRequestMemory(t *testing.T) {
	e := loadConfig(t, narrowConfig(), false)
	big := model.SceneGraph{}
	for range model.MaxObjectsPerGraph {
		big.Objects = append(big.Objects, "sheep")
	}
	_, err := e.Generate(&protocol.GenerateRequest{Graph: big, Count: protocol.MaxCount})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "count" || !strings.Contains(err.Error(), "16 images of this graph need more memory than a request may use at 256x256; ask for at most") {
		t.Fatalf("16 images of 256 objects: %v", err)
	}
	t.Log(err)
	// As many as it says fit are drawn.
	var fit int
	fmt.Sscanf(err.Error()[strings.LastIndex(err.Error(), " ")+1:], "%d", &fit)
	if fit < 1 || fit >= protocol.MaxCount {
		t.Fatalf("fit %d", fit)
	}
	if e.g.Config.ActivationBytes(fit, fit*(len(big.Objects)+1), fit*len(big.Objects)) > maxRequestBytes {
		t.Errorf("%d images said to fit do not", fit)
	}
	// A small graph still gets all sixteen.
	if err := e.checkMemory(protocol.MaxCount, protocol.MaxCount*(len(sheep.Objects)+1), protocol.MaxCount*(len(sheep.Relationships)+len(sheep.Objects))); err != nil {
		t.Errorf("16 images of 3 objects: %v", err)
	}
}

func TestGenerateRefusesNaNImages(t *testing.T) {
	// Weights that are finite but huge overflow float32 in the network.
	cfg := narrowConfig()
	cfg.ImageSize = [2]int{32, 32}
	e := loadConfig(t, cfg, true)
	res, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 1})
	if !errors.Is(err, ErrNotFinite) || res != nil {
		t.Fatalf("huge weights: %v, %v", res, err)
	}
}

// TestLoadFromDrawsAsLoad checks that a model read a part at a time (as
// the browser reads a picked file) draws what the same bytes draw, and
// that a failed read leaves the model as it was.
func TestLoadFromDrawsAsLoad(t *testing.T) {
	for _, name := range []string{"tiny_masks.legacy.pt", "tiny_masks.zip.pt"} {
		e, data := load(t, name)
		want, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		var f Engine
		info, err := f.LoadFrom(name, bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if info.Params != e.Info().Params || info.Format != e.Info().Format {
			t.Errorf("%s: LoadFrom gives %+v, Load %+v", name, info, e.Info())
		}
		got, err := f.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.RGBA[0], want.RGBA[0]) {
			t.Errorf("%s: the image differs from the one Load's model draws", name)
		}
		_, err = f.LoadFrom("short.pt", bytes.NewReader(data[:len(data)/2]), int64(len(data)))
		if err == nil || !strings.Contains(err.Error(), "short.pt") || !strings.Contains(err.Error(), "fetch it again") {
			t.Errorf("%s cut short: error %v, want one naming it and saying to fetch it again", name, err)
		}
		if f.Info().Name != name {
			t.Errorf("%s: a failed load replaced the model", name)
		}
	}
}
