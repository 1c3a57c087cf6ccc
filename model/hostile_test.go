package model

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/internal/memtest"
	"github.com/sg2im-go/sg2im/weights"
)

func TestHostileImageSize(t *testing.T) {
	// The shipped model with model_kwargs asking for 4096 x 4096 images.
	ck, err := weights.Load("../weights/shipped/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	var kw map[string]any
	if err := json.Unmarshal(ck.ModelKwargs, &kw); err != nil {
		t.Fatal(err)
	}
	// 200,000 predicates: scores for each of a full graph's triples.
	vocab := kw["vocab"].(map[string]any)
	var preds []string
	for i := range 200_000 {
		preds = append(preds, fmt.Sprint("p", i))
	}
	manyPreds := map[string]any{"object_idx_to_name": vocab["object_idx_to_name"], "object_name_to_idx": vocab["object_name_to_idx"],
		"pred_idx_to_name": preds, "pred_name_to_idx": vocab["pred_name_to_idx"]}
	for _, tc := range []struct {
		key  string
		val  any
		want string
	}{
		{"vocab", manyPreds, "model: a vocabulary of 200000 predicates with gconv_hidden_dim 256, for each of 4096 relationships, needs about 6739 MiB of activations for one image of a full graph, more than the 1024 MiB this program allows"},
		{"image_size", []int{4096, 4096}, "model: image_size [4096 4096] with mask_size 16 and gconv_dim 64, for each of 256 objects, needs about 67574 MiB of activations for one image of a full graph, more than the 1024 MiB this program allows"},
		{"mask_size", 1024, "model: image_size [64 64] with mask_size 1024 and gconv_dim 64, for each of 256 objects, needs about 132678 MiB"},
		// A network of 2.5 GB of parameters for a 12 MB file.
		{"refinement_dims", []int{4096, 4096, 2048, 1024, 64}, "the generator's kwargs describe"},
	} {
		old := kw[tc.key]
		kw[tc.key] = tc.val
		ck.ModelKwargs, _ = json.Marshal(kw)
		kw[tc.key] = old
		var err error
		n := memtest.Allocated(func() { _, _, err = FromCheckpoint(ck) })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want one naming it and the limit", tc.key, label(tc.val), err)
		}
		t.Logf("%s %v: %d KiB allocated: %v", tc.key, label(tc.val), n>>10, err)
		if n > 32<<20 {
			t.Errorf("%s %v: refusing the config allocated %d MiB", tc.key, label(tc.val), n>>20)
		}
	}
}

func TestActivationBytesBoundsForward(t *testing.T) {
	// The estimate holds what an inference pass allocates, for a small
	// model with masks and noise at an image size where activations
	// outweigh the parameters.
	cfg := smallConfig()
	cfg.ImageSize = [2]int{128, 128}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(7)
	b := encodeOne(t, g, `{"objects": ["sky", "grass", "sheep"], "relationships": [[0, "above", 1], [2, "inside", 1]]}`)
	n := memtest.Allocated(func() { _, err = g.Forward(b, Options{Seed: 1}) })
	if err != nil {
		t.Fatal(err)
	}
	est := g.Config.ActivationBytes(1, len(b.Objs), len(b.Triples))
	t.Logf("forward allocated %d KiB, estimate %.0f KiB", n>>10, est/1024)
	if float64(n) > 2*est {
		t.Errorf("forward allocated %d bytes, more than twice the estimate %.0f", n, est)
	}
}

// label is a short description of a test value for messages.
func label(v any) string {
	if s := fmt.Sprint(v); len(s) <= 40 {
		return s
	}
	return fmt.Sprintf("(%T)", v)
}
