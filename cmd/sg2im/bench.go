package main

import (
	"fmt"
	"io"
	"reflect"
	"runtime"
	"slices"
	"time"

	"github.com/sg2im-go/sg2im/bench"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
)

// benchWarmup passes run untimed first, as torch_anchor.py does.
const benchWarmup = 2

func benchCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "Usage: sg2im bench [--config coco64|vg128|FILE] [--threads N] [--reps N] [--graphs FILE.json]\n\n"+
		"Times the generator on torch_anchor.py's 6-object graph (../shared/bench/) after\n"+
		"two warm-up passes and prints one line per pass, the time and GFLOP/s of each\n"+
		"layer type over the timed passes (and its share of an assumed peak: 32 FLOP/cycle\n"+
		"a thread at the measured clock), then median_ms=<float> min_ms=<float>.", stderr)
	config := fs.String("config", "coco64", "coco64, vg128 or x256 (the release's architecture with random weights, seed 0), or a model `file`")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix products and the Go scheduler (GOMAXPROCS)")
	reps := fs.Int("reps", 9, "timed passes")
	graphsPath := fs.String("graphs", "", "time these scene graphs (a JSON `file`, one batch) instead of the 6-object graph")
	profile := fs.Bool("profile", true, "record and print the time per layer type (costs a few clock readings per layer)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q; all inputs are flags", fs.Arg(0))
	}
	if *threads < 1 || *reps < 1 {
		return usageErr("--threads and --reps must be at least 1")
	}

	g, err := benchModel(*config, stderr)
	if err != nil {
		return err
	}
	graphs := []model.SceneGraph{bench.GraphFor(g.Config.Vocab)}
	if *graphsPath == "" && !reflect.DeepEqual(graphs[0], bench.Graph()) {
		fmt.Fprintf(stderr, "sg2im bench: the model lacks some of torch_anchor's words; timing the same graph in its words: %v\n", graphs[0].Objects)
	}
	if *graphsPath != "" {
		if graphs, err = readGraphs(*graphsPath); err != nil {
			return err
		}
	}
	batch, err := model.Encode(graphs, g.Config.Vocab)
	if err != nil {
		if *graphsPath != "" {
			return inputErr(fmt.Errorf("%s: %w", *graphsPath, err))
		}
		return inputErr(fmt.Errorf("torch_anchor's graph does not fit this model's vocabulary; give graphs in its words with --graphs: %w", err))
	}
	if need := activations(graphs, &g.Config); need > model.MaxActivationBytes {
		return inputErr(fmt.Errorf("%s: the %d graphs, one batch here, need about %.0f MiB of activations, more than the %d MiB allowed; time fewer or smaller graphs", *graphsPath, len(graphs), need/(1<<20), model.MaxActivationBytes>>20))
	}

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*threads))
	defer nn.SetThreads(0)
	nn.SetThreads(*threads)
	fmt.Fprintf(stdout, "config=%s threads=%d graphs=%d image=%dx%d gemm=%s\n", *config, *threads, len(graphs),
		g.Config.ImageSize[0], g.Config.ImageSize[1], nn.GemmKernel())
	times := make([]float64, 0, *reps)
	var prof *bench.Profile
	if *profile {
		prof = new(bench.Profile)
	}
	for i := -benchWarmup; i < *reps; i++ {
		opt := model.Options{Seed: 1}
		if i >= 0 && prof != nil { // a nil *bench.Profile in the interface would still time every layer
			opt.Profile = prof
		}
		start := time.Now()
		if _, err := g.Forward(batch, opt); err != nil {
			return inputErr(err)
		}
		if i < 0 {
			continue
		}
		ms := float64(time.Since(start).Nanoseconds()) / 1e6
		times = append(times, ms)
		fmt.Fprintf(stdout, "rep %d: %.2f ms\n", i+1, ms)
	}
	if prof != nil {
		peak := bench.Peak{Threads: *threads, ClockGHz: bench.ClockGHz()}
		fmt.Fprintf(stdout, "per layer type, mean of the %d timed passes; %v:\n", *reps, peak)
		bench.WriteTable(stdout, prof.Table(), len(graphs), peak.GFLOPs())
	}
	slices.Sort(times)
	fmt.Fprintf(stdout, "median_ms=%.2f min_ms=%.2f\n", times[len(times)/2], times[0])
	return nil
}

// benchModel builds a named configuration (bench.NewGenerator) or
// loads a model file.
func benchModel(config string, stderr io.Writer) (*model.Generator, error) {
	if !bench.IsConfig(config) {
		_, g, err := loadModel(config, stderr)
		return g, err
	}
	return bench.NewGenerator(config)
}
