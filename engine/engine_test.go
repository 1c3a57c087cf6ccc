package engine

import (
	"bytes"
	"errors"
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
	for _, tc := range []struct {
		req   protocol.GenerateRequest
		field string
		want  string
	}{
		{protocol.GenerateRequest{Graph: model.SceneGraph{Objects: []string{"sky", "grss"}}}, "objects", `did you mean "grass"`},
		{protocol.GenerateRequest{Graph: model.SceneGraph{Objects: []string{"sky"}, Relationships: []model.Relationship{{Subject: 0, Predicate: "abve", Object: 0}}}}, "relationships", `"above"`},
		{protocol.GenerateRequest{Graph: model.SceneGraph{}}, "objects", "no objects"},
		{protocol.GenerateRequest{Graph: model.SceneGraph{Objects: []string{"sky"}, Relationships: []model.Relationship{{Subject: 0, Predicate: "above", Object: 3}}}}, "relationships", "out of range"},
		{protocol.GenerateRequest{Graph: sheep, Boxes: [][4]float32{{0, 0, 1, 1}}}, "boxes", "1 boxes for 3 objects"},
		{protocol.GenerateRequest{Graph: sheep, Count: 99}, "count", "at most"},
	} {
		_, err := e.Generate(&tc.req)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want field %q and %q", tc.req.Graph, err, tc.field, tc.want)
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
	} {
		_, err := e.Generate(&protocol.GenerateRequest{Text: tc.text})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "text" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want field \"text\" and %q", tc.text, err, tc.want)
		}
	}
}
