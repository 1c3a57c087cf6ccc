package engine

import (
	"errors"
	"math"
	"testing"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
)

func TestBenchLoaded(t *testing.T) {
	e, _ := load(t, "tiny_masks.zip.pt")
	var phases []string
	res, err := e.Bench(&protocol.BenchRequest{Config: protocol.BenchLoaded, WarmupS: 0.05, Reps: 3},
		func(phase string, done, total int64) { phases = append(phases, phase) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "tiny_masks.zip.pt" || res.Config != protocol.BenchLoaded || res.ImageSize != [2]int{32, 32} || res.Objects != 6 || res.Params == 0 || res.Gemm == "" {
		t.Errorf("result %+v", res)
	}
	if res.WarmupPasses < 1 || res.WarmupS < 0.05 {
		t.Errorf("warm-up: %d passes in %.3f s", res.WarmupPasses, res.WarmupS)
	}
	if len(res.TimesMs) != 3 || res.MinMs <= 0 || res.MedianMs < res.MinMs {
		t.Errorf("times %v, median %v, min %v", res.TimesMs, res.MedianMs, res.MinMs)
	}
	var sum, mean float64
	for _, l := range res.Layers {
		sum += l.Ms
	}
	for _, ms := range res.TimesMs {
		mean += ms / 3
	}
	if len(res.Layers) != 7 || res.Layers[0].Layer != model.LayerConv3x3 || res.Layers[0].GFLOP <= 0 || res.GFLOP < res.Layers[0].GFLOP {
		t.Errorf("layers %+v, %v GFLOP", res.Layers, res.GFLOP)
	}
	// The profile sees each timed pass from inside Forward: its mean is a
	// little under the mean of the times taken around Forward.
	if math.Abs(sum-res.ProfileMs) > 1e-6 || res.ProfileMs > mean || res.ProfileMs < 0.5*mean {
		t.Errorf("layers sum to %.4f ms, profile %.4f ms, mean pass %.4f ms", sum, res.ProfileMs, mean)
	}
	_ = phases // progress comes at most once a second: none is required here
}

func TestBenchErrors(t *testing.T) {
	var e Engine
	if _, err := e.Bench(&protocol.BenchRequest{Config: protocol.BenchLoaded, Reps: 1}, nil); !errors.Is(err, ErrNoModel) {
		t.Errorf("no model: %v", err)
	}
	if _, err := e.Bench(&protocol.BenchRequest{Config: "coco65", Reps: 1}, nil); err == nil {
		t.Error("unknown config accepted")
	}
}
