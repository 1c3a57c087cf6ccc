package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
	"github.com/sg2im-go/sg2im/weights"
)

// TestAppearanceVariations: a model with appearance vectors (and no layout
// noise) loads in the engine, its variations differ, and each is the
// model's image for its seed, as in the CLI.
func TestAppearanceVariations(t *testing.T) {
	g, e := appearanceEngine(t)
	res, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 5, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(res.RGBA[0], res.RGBA[1]) {
		t.Error("two variations are the same image")
	}
	b, _ := model.Encode([]model.SceneGraph{sheep}, g.Config.Vocab)
	for i := range 2 {
		out, err := g.Forward(b, model.Options{Seed: 5 + uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(res.RGBA[i], model.Deprocess(out.Img)[0].Pix) {
			t.Errorf("variation %d differs from the model's image for seed %d", i, 5+i)
		}
	}
	for _, box := range res.Boxes {
		for _, v := range box {
			if v < 0 || v > 1 {
				t.Errorf("box %v leaves the image", box)
			}
		}
	}
}

// appearanceEngine loads a tiny random model with appearance vectors
// (and no layout noise, so that they alone vary) into an engine.
func appearanceEngine(t *testing.T) (*model.Generator, *Engine) {
	g, err := model.New(model.Config{
		ImageSize: [2]int{16, 16}, EmbeddingDim: 8, GconvDim: 8, GconvHiddenDim: 12, GconvNumLayers: 1,
		GconvPooling: "avg", RefinementDims: []int{8, 4}, Normalization: "batch", Activation: "leakyrelu-0.2",
		MaskSize: 4, MLPNormalization: "none",
		Vocab:         model.NewVocab([]string{"sky", "grass", "sheep"}, []string{"above", "inside"}),
		AppearanceDim: 4, BoxSigmoid: true, InstanceEmbeddings: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(3)
	kwargs, _ := json.Marshal(g.Config)
	var file bytes.Buffer
	if err := (&weights.Checkpoint{ModelKwargs: kwargs, Model: g.State()}).WriteSafetensors(&file); err != nil {
		t.Fatal(err)
	}
	e := &Engine{}
	info, err := e.Load("options.safetensors", file.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if info.AppearanceDim != 4 {
		t.Errorf("model info says appearance_dim %d, want 4", info.AppearanceDim)
	}
	return g, e
}

// TestAppearanceSeeds: an object's own appearance seed changes the image,
// only through that object's vector (the others keep the image's draw),
// the same seeds draw the same image, and a model without appearance
// vectors refuses them by name.
func TestAppearanceSeeds(t *testing.T) {
	g, e := appearanceEngine(t)
	draw := func(seeds ...*uint64) []byte {
		t.Helper()
		res, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 5, AppearanceSeeds: seeds})
		if err != nil {
			t.Fatal(err)
		}
		return res.RGBA[0]
	}
	s1, s2 := uint64(11), uint64(12)
	plain := draw()
	if !bytes.Equal(draw(nil, nil, nil), plain) {
		t.Error("null appearance seeds change the image")
	}
	a, b := draw(nil, nil, &s1), draw(nil, nil, &s1)
	if !bytes.Equal(a, b) {
		t.Error("the same appearance seeds draw different images")
	}
	if bytes.Equal(a, plain) || bytes.Equal(a, draw(nil, nil, &s2)) {
		t.Error("a new appearance seed for the sheep leaves the image as it was")
	}
	// Only the sheep's vector changed: the engine's image is the model's
	// with the image's draw and the sheep's row replaced.
	bt, _ := model.Encode([]model.SceneGraph{sheep}, g.Config.Vocab)
	z := model.AppearanceNoise(5, bt.ObjToImg, 1, 4)
	copy(z.Data[2*4:3*4], model.ObjectAppearance(s1, 4))
	out, err := g.Forward(bt, model.Options{Seed: 5, Appearance: z})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(model.Deprocess(out.Img)[0].Pix, a) {
		t.Error("re-rolling the sheep's look changed more than its appearance vector")
	}
	if _, err := e.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 5, AppearanceSeeds: []*uint64{&s1}}); err == nil ||
		!strings.Contains(err.Error(), "1 appearance seeds for 3 objects") {
		t.Errorf("too few appearance seeds: %v", err)
	}
	plainEngine, _ := load(t, "tiny_masks.zip.pt")
	_, err = plainEngine.Generate(&protocol.GenerateRequest{Graph: sheep, Seed: 5, AppearanceSeeds: []*uint64{nil, nil, &s1}})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "appearance_seeds" || !strings.Contains(err.Error(), "no per-object appearance") {
		t.Errorf("appearance seeds for a model without appearance vectors: %v", err)
	}
}
