package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/sg2im-go/sg2im/bench"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/protocol"
)

// benchProgressEvery spaces the progress reports of a bench request.
const benchProgressEvery = time.Second

// Bench times the generator as `sg2im bench` does (see
// protocol.BenchRequest). progress, when not nil, is called about once a
// second with what is done: the phase ("warmup" in ms, "reps" in passes),
// the amount done and the total.
func (e *Engine) Bench(req *protocol.BenchRequest, progress func(phase string, done, total int64)) (*protocol.BenchResult, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	var g *model.Generator
	name := req.Config
	if req.Config == protocol.BenchLoaded {
		if e.g == nil {
			return nil, ErrNoModel
		}
		g, name = e.g, e.info.Name
	} else {
		var err error
		if g, err = bench.NewGenerator(req.Config); err != nil {
			return nil, err
		}
	}
	graph := bench.GraphFor(g.Config.Vocab)
	batch, err := model.Encode([]model.SceneGraph{graph}, g.Config.Vocab)
	if err != nil {
		return nil, fmt.Errorf("the benchmark graph does not fit the model: %w", err)
	}
	pass := func(prof model.Recorder) (time.Duration, error) {
		t0 := time.Now()
		_, err := g.Forward(batch, model.Options{Seed: 1, Profile: prof})
		return time.Since(t0), err
	}

	warmup := time.Duration(req.WarmupS * float64(time.Second))
	res := &protocol.BenchResult{
		Config: req.Config, Model: name, ImageSize: g.Config.ImageSize, Params: g.NumParams(),
		Objects: len(graph.Objects), Gemm: nn.GemmKernel(),
	}
	start, reported := time.Now(), time.Now()
	for time.Since(start) < warmup {
		if _, err := pass(nil); err != nil {
			return nil, err
		}
		res.WarmupPasses++
		if time.Since(reported) >= benchProgressEvery {
			progress("warmup", time.Since(start).Milliseconds(), warmup.Milliseconds())
			reported = time.Now()
		}
	}
	res.WarmupS = time.Since(start).Seconds()

	var prof bench.Profile
	nn.ThreadsUsed() // counts the timed passes' products
	for i := range req.Reps {
		d, err := pass(&prof)
		if err != nil {
			return nil, err
		}
		res.TimesMs = append(res.TimesMs, float64(d.Nanoseconds())/1e6)
		if time.Since(reported) >= benchProgressEvery {
			progress("reps", int64(i+1), int64(req.Reps))
			reported = time.Now()
		}
	}
	sorted := slices.Sorted(slices.Values(res.TimesMs))
	res.MedianMs, res.MinMs = sorted[len(sorted)/2], sorted[0]
	res.Threads = max(1, nn.ThreadsUsed())
	res.Layers, res.ProfileMs = prof.Table(), prof.TotalMs()
	for _, l := range res.Layers {
		res.GFLOP += l.GFLOP
	}
	return res, nil
}
