package sg2im

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/engine"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
	"github.com/sg2im-go/sg2im/ui"
	"github.com/sg2im-go/sg2im/weights"
)

// looksModel is a tiny random model with layout noise and appearance
// vectors, as the bytes of a .safetensors file.
func looksModel(t *testing.T) []byte {
	t.Helper()
	g, err := model.New(model.Config{
		ImageSize: [2]int{16, 16}, EmbeddingDim: 8, GconvDim: 8, GconvHiddenDim: 12, GconvNumLayers: 1,
		GconvPooling: "avg", RefinementDims: []int{8, 4}, Normalization: "batch", Activation: "leakyrelu-0.2",
		MaskSize: 4, MLPNormalization: "none", LayoutNoiseDim: 2,
		Vocab:         model.NewVocab([]string{"sky", "grass", "sheep"}, []string{"above", "inside"}),
		AppearanceDim: 4, AppearanceScale: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(9)
	kwargs, _ := json.Marshal(g.Config)
	var file bytes.Buffer
	if err := (&weights.Checkpoint{ModelKwargs: kwargs, Model: g.State()}).WriteSafetensors(&file); err != nil {
		t.Fatal(err)
	}
	return file.Bytes()
}

// appDraws is the picture the app draws for session s: the engine's answer
// to the request the app sends.
func appDraws(t *testing.T, e *engine.Engine, s ui.Session) []byte {
	t.Helper()
	boxes, pinned := s.Request()
	res, err := e.Generate(&protocol.GenerateRequest{Graph: s.Graph, Seed: s.Seed, Boxes: boxes, Pinned: pinned, AppearanceSeeds: s.AppearanceSeeds()})
	if err != nil {
		t.Fatal(err)
	}
	return res.RGBA[0]
}

// TestExportedScenes: the app's Export JSON, read by ParseScenes and drawn
// by GenerateScenes, gives the app's pixels: the scene's own seed instead
// of Options.Seed, its pinned boxes and its objects' looks; alone or in a
// list beside scenes without a seed.
func TestExportedScenes(t *testing.T) {
	file := looksModel(t)
	m, err := Decode("looks.safetensors", file)
	if err != nil {
		t.Fatal(err)
	}
	var e engine.Engine
	if _, err := e.Load("looks.safetensors", file); err != nil {
		t.Fatal(err)
	}
	s := ui.Session{Seed: 41, Graph: model.SceneGraph{Objects: []string{"sky", "grass", "sheep"},
		Relationships: []model.Relationship{{Subject: 0, Predicate: "above", Object: 1}, {Subject: 2, Predicate: "inside", Object: 1}}}}
	s.Pin(2, [4]float32{0.2, 0.5, 0.5, 0.9})
	s.NewLook(1, 123456)
	exported := ui.MarshalSession(s)
	want := appDraws(t, &e, s)

	scenes, err := m.ParseScenes(string(exported))
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := m.GenerateScenes(scenes, Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if imgs[0].Seed != 41 || !bytes.Equal(imgs[0].RGBA.Pix, want) {
		t.Errorf("the exported scene draws other pixels than the app (seed %d)", imgs[0].Seed)
	}
	if imgs[0].Boxes[2] != [4]float32{0.2, 0.5, 0.5, 0.9} {
		t.Errorf("the pinned box is drawn at %v", imgs[0].Boxes[2])
	}
	plain := s.Clone()
	plain.Unpin(-1)
	plain.Looks = nil
	if bytes.Equal(appDraws(t, &e, plain), want) {
		t.Error("the pin and the look change nothing: the test proves nothing")
	}

	// In a list: scene 0 has no seed (Options.Seed+0), scene 1 its own,
	// scene 2 none (Options.Seed+2), all in one batch.
	other := ui.Session{Seed: 7, Graph: model.SceneGraph{Objects: []string{"sheep", "grass"}, Relationships: []model.Relationship{}}}
	third := other.Clone()
	third.Seed = 9
	third.NewLook(0, 5)
	list := "[" + `{"objects": ["sheep", "grass"]}, ` + string(exported) + `, {"objects": ["sheep", "grass"], "appearance_seeds": [5, null]}]`
	scenes, err = m.ParseScenes(list)
	if err != nil {
		t.Fatal(err)
	}
	imgs, err = m.GenerateScenes(scenes, Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range [][]byte{appDraws(t, &e, other), want, appDraws(t, &e, third)} {
		if !bytes.Equal(imgs[i].RGBA.Pix, w) {
			t.Errorf("scene %d of the list draws other pixels than the app", i)
		}
	}

	// Plain graphs still draw as Generate draws them.
	g := []Graph{other.Graph}
	a, _ := m.Generate(g, Options{Seed: 7})
	if !bytes.Equal(a[0].RGBA.Pix, imgs[0].RGBA.Pix) {
		t.Error("Generate and GenerateScenes differ on a plain graph")
	}
}

// TestExportedScenesErrors: appearance seeds for a model without
// appearance vectors, and faults in the added fields, are named.
func TestExportedScenesErrors(t *testing.T) {
	m, err := Load("testdata/tiny_masks.zip.pt")
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		`{"objects": ["sky"], "appearance_seeds": [3]}`:    "no per-object appearance",
		`{"objects": ["sky"], "boxes": [[0, 0, 2, 1]]}`:    "box 0",
		`{"objects": ["sky"], "seed": 1, "colour": "red"}`: `unknown field "colour"`,
	} {
		if _, err := m.ParseScenes(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
	sc := []Scene{{SceneGraph: Graph{Objects: []string{"sky"}}, Boxes: []*[4]float32{nil, nil}}}
	if _, err := m.GenerateScenes(sc, Options{}); err == nil || !strings.Contains(err.Error(), "2 boxes for 1 objects") {
		t.Errorf("a scene built with too many boxes: %v", err)
	}
	seed := uint64(1)
	sc = []Scene{{SceneGraph: Graph{Objects: []string{"sky"}}, AppearanceSeeds: []*uint64{&seed}}}
	if _, err := m.GenerateScenes(sc, Options{}); err == nil || !strings.Contains(err.Error(), "no per-object appearance") {
		t.Errorf("appearance seeds for a model without: %v", err)
	}
}
