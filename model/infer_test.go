package model

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/internal/fixture"
	"github.com/sg2im-go/sg2im/nn"
)

// TestForwardEvalMatchesTape checks the fused inference paths of the mask
// net and the CRN (forwardEval, taken by Forward) against the op-by-op
// path that a tape records, for every normalization and with batch-norm
// statistics far from the identity.
func TestForwardEvalMatchesTape(t *testing.T) {
	for _, norm := range []string{"batch", "instance", "none"} {
		t.Run(norm, func(t *testing.T) {
			cfg := smallConfig()
			cfg.Normalization = norm
			cfg.RefinementDims = []int{8, 6, 4} // the last module is 16 pixels wide: rows read in place
			g, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			g.InitRandom(3)
			rng := rand.New(rand.NewPCG(4, 5))
			for _, b := range g.Buffers() {
				for i := range b.T.Data {
					switch {
					case strings.HasSuffix(b.Name, ".running_mean"):
						b.T.Data[i] = float32(rng.NormFloat64())
					case strings.HasSuffix(b.Name, ".running_var"):
						b.T.Data[i] = 0.1 + 2*rng.Float32()
					}
				}
			}
			for _, p := range g.Params() {
				if strings.Contains(p.Name, "refinement_net") && strings.Contains(p.Name, "net.1.") ||
					strings.HasPrefix(p.Name, "mask_net.1.") || strings.HasPrefix(p.Name, "mask_net.5.") {
					for i := range p.T.Data { // batch-norm weight and bias
						p.T.Data[i] = float32(rng.NormFloat64())
					}
				}
			}
			batch := encodeOne(t, g, `[{"objects": ["sky", "sheep", "grass"], "relationships": [[0, "above", 1], [1, "above", 2]]},
				{"objects": ["tree"], "relationships": []}]`)
			fast, err := g.Forward(batch, Options{Seed: 9})
			if err != nil {
				t.Fatal(err)
			}
			slow, err := g.ForwardTape(nn.NewTape(), false, batch, Options{Seed: 9})
			if err != nil {
				t.Fatal(err)
			}
			fixture.AssertClose(t, "masks", fast.MasksPred, slow.MasksPred.Value, 1e-5)
			fixture.AssertClose(t, "img", fast.Img, slow.Img.Value, 1e-5)
		})
	}
}

// TestForwardConcurrent runs one generator from several goroutines at
// once, as a server does: the pooled buffers of the fused paths must not
// be shared between passes.
func TestForwardConcurrent(t *testing.T) {
	cfg := smallConfig()
	cfg.ImageSize = [2]int{32, 32} // the last module takes Winograd on AVX2
	cfg.RefinementDims = []int{8, 6, 4}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(5)
	batch := encodeOne(t, g, `{"objects": ["sky", "sheep", "grass"], "relationships": [[0, "above", 1]]}`)
	want, err := g.Forward(batch, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	outs := make([]*Output, 4)
	for i := range outs {
		go func() {
			var err error
			outs[i], err = g.Forward(batch, Options{Seed: 3})
			errs <- err
		}()
	}
	for range outs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, out := range outs {
		fixture.AssertClose(t, "img", out.Img, want.Img, 0)
	}
}
