package model

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/weights"
)

// allocated runs f and returns the bytes it allocated (TotalAlloc, garbage
// included): an upper bound on its peak memory.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

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
	for _, tc := range []struct {
		key  string
		val  any
		want string
	}{
		{"image_size", []int{4096, 4096}, "image_size [4096 4096] with mask_size 16 and refinement_dims [256 128 64 32 16] needs about 67524 MiB of activations for one image of 256 objects, more than the 1024 MiB this program allows"},
		{"mask_size", 1024, "with mask_size 1024 and refinement_dims [256 128 64 32 16] needs about 132628 MiB"},
		// A network of 2.5 GB of parameters for a 12 MB file.
		{"refinement_dims", []int{4096, 4096, 2048, 1024, 64}, "the generator's kwargs describe"},
	} {
		old := kw[tc.key]
		kw[tc.key] = tc.val
		ck.ModelKwargs, _ = json.Marshal(kw)
		kw[tc.key] = old
		var err error
		n := allocated(func() { _, _, err = FromCheckpoint(ck) })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want one naming it and the limit", tc.key, tc.val, err)
		}
		t.Logf("%s %v: %d KiB allocated: %v", tc.key, tc.val, n>>10, err)
		if n > 4<<20 {
			t.Errorf("%s %v: refusing the config allocated %d MiB", tc.key, tc.val, n>>20)
		}
	}
}

func TestActivationBudgetAdmitsKnownConfigs(t *testing.T) {
	for _, name := range BenchConfigs() {
		cfg := DefaultConfig(BenchVocab())
		cfg.ImageSize = [2]int{benchSides[name], benchSides[name]}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
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
	n := allocated(func() { _, err = g.Forward(b, Options{Seed: 1}) })
	if err != nil {
		t.Fatal(err)
	}
	est := g.Config.ActivationBytes(1, len(b.Objs))
	t.Logf("forward allocated %d KiB, estimate %.0f KiB", n>>10, est/1024)
	if float64(n) > 2*est {
		t.Errorf("forward allocated %d bytes, more than twice the estimate %.0f", n, est)
	}
}
