package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/engine"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
	"github.com/sg2im-go/sg2im/ui"
	"github.com/sg2im-go/sg2im/weights"
)

// TestGenerateExportedScene: `sg2im generate --graphs` reads the app's
// Export JSON and draws the app's pixels (the engine's for the app's
// request): the file's seed over --seed, its pinned box, its object's
// look; --layout shows the pinned box. A model without appearance vectors
// refuses the looks by name.
func TestGenerateExportedScene(t *testing.T) {
	dir := t.TempDir()
	g, err := model.New(model.Config{
		ImageSize: [2]int{16, 16}, EmbeddingDim: 8, GconvDim: 8, GconvHiddenDim: 12, GconvNumLayers: 1,
		GconvPooling: "avg", RefinementDims: []int{8, 4}, Normalization: "batch", Activation: "leakyrelu-0.2",
		MaskSize: 4, MLPNormalization: "none", LayoutNoiseDim: 2,
		Vocab:         model.NewVocab([]string{"sky", "grass", "sheep"}, []string{"above", "inside"}),
		AppearanceDim: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(4)
	kw, _ := json.Marshal(g.Config)
	modelPath := filepath.Join(dir, "looks.safetensors")
	if err := (&weights.Checkpoint{ModelKwargs: kw, Model: g.State()}).Save(modelPath); err != nil {
		t.Fatal(err)
	}
	s := ui.Session{Seed: 12, Graph: model.SceneGraph{Objects: []string{"sky", "grass", "sheep"},
		Relationships: []model.Relationship{{Subject: 0, Predicate: "above", Object: 1}}}}
	s.Pin(2, [4]float32{0.1, 0.5, 0.4, 0.9})
	s.NewLook(0, 99)
	scenePath := filepath.Join(dir, "scene.json")
	if err := os.WriteFile(scenePath, ui.MarshalSession(s), 0o644); err != nil {
		t.Fatal(err)
	}

	var e engine.Engine
	raw, _ := os.ReadFile(modelPath)
	if _, err := e.Load("looks.safetensors", raw); err != nil {
		t.Fatal(err)
	}
	boxes, pinned := s.Request()
	res, err := e.Generate(&protocol.GenerateRequest{Graph: s.Graph, Seed: s.Seed, Boxes: boxes, Pinned: pinned, AppearanceSeeds: s.AppearanceSeeds()})
	if err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "out")
	if code, _, errs := sg2im("generate", "--model", modelPath, "--graphs", scenePath, "--out", out, "--seed", "500", "--layout"); code != 0 {
		t.Fatalf("generate: %d %s", code, errs)
	}
	f, err := os.Open(filepath.Join(out, "img000000.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	var pix []byte
	for y := range 16 {
		for x := range 16 {
			r, g, b, a := img.At(x, y).RGBA()
			pix = append(pix, byte(r>>8), byte(g>>8), byte(b>>8), byte(a>>8))
		}
	}
	if !bytes.Equal(pix, res.RGBA[0]) {
		t.Error("generate draws the exported scene with other pixels than the app")
	}
	if _, err := os.Stat(filepath.Join(out, "layout000000.png")); err != nil {
		t.Errorf("no layout: %v", err)
	}

	// A model without appearance vectors refuses the looks; ParseGraphs'
	// strictness stays for anything else.
	if code, _, errs := sg2im("generate", "--model", testdata("tiny_masks.zip.pt"), "--graphs", scenePath, "--out", out); code == 0 || !strings.Contains(errs, "no per-object appearance") {
		t.Errorf("looks for a model without them: %d %s", code, errs)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"objects": ["sky"], "seed": 1, "colour": "red"}`), 0o644)
	if code, _, errs := sg2im("generate", "--model", modelPath, "--graphs", bad, "--out", out); code == 0 || !strings.Contains(errs, `unknown field "colour"`) {
		t.Errorf("an unknown field: %d %s", code, errs)
	}
}
