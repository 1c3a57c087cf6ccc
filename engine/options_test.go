package engine

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
	"github.com/sg2im-go/sg2im/weights"
)

// TestAppearanceVariations: a model with appearance vectors (and no layout
// noise) loads in the engine, its variations differ, and each is the
// model's image for its seed, as in the CLI.
func TestAppearanceVariations(t *testing.T) {
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
	var e Engine
	if _, err := e.Load("options.safetensors", file.Bytes()); err != nil {
		t.Fatal(err)
	}
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
