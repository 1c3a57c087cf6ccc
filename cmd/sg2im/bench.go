package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
)

// benchWarmup passes run untimed first, as torch_anchor.py does.
const benchWarmup = 2

// benchGraph is torch_anchor.py's scene: six objects, five relationships.
var benchGraph = model.SceneGraph{
	Objects: []string{"sky", "grass", "sheep", "sheep", "tree", "ocean"},
	Relationships: []model.Relationship{
		{Subject: 0, Predicate: "above", Object: 1}, {Subject: 2, Predicate: "below", Object: 0},
		{Subject: 3, Predicate: "left of", Object: 2}, {Subject: 4, Predicate: "above", Object: 2},
		{Subject: 5, Predicate: "right of", Object: 4},
	},
}

// benchSides are the named configurations: the release's defaults at
// these image sides, as in torch_anchor.py's CONFIGS; x256 has no anchor
// and shows how the cost grows with pixels.
var benchSides = map[string]int{"coco64": 64, "vg128": 128, "x256": 256}

func bench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "Usage: sg2im bench [--config coco64|vg128|FILE] [--threads N] [--reps N] [--graphs FILE.json]\n\n"+
		"Times the generator on torch_anchor.py's 6-object graph (../shared/bench/) after\n"+
		"two warm-up passes and prints one line per pass, then\n"+
		"median_ms=<float> min_ms=<float>.", stderr)
	config := fs.String("config", "coco64", "coco64, vg128 or x256 (the release's architecture with random weights, seed 0), or a model `file`")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix products and the Go scheduler (GOMAXPROCS)")
	reps := fs.Int("reps", 9, "timed passes")
	graphsPath := fs.String("graphs", "", "time these scene graphs (a JSON `file`, one batch) instead of the 6-object graph")
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
	graphs := []model.SceneGraph{benchGraph}
	if *graphsPath != "" {
		raw, err := os.ReadFile(*graphsPath)
		if err != nil {
			return inputErr(err)
		}
		if graphs, err = model.ParseGraphs(raw); err != nil {
			return inputErr(fmt.Errorf("%s: %w", *graphsPath, err))
		}
	}
	batch, err := model.Encode(graphs, g.Config.Vocab)
	if err != nil {
		if *graphsPath != "" {
			return inputErr(fmt.Errorf("%s: %w", *graphsPath, err))
		}
		return inputErr(fmt.Errorf("torch_anchor's graph does not fit this model's vocabulary; give graphs in its words with --graphs: %w", err))
	}

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*threads))
	defer nn.SetThreads(0)
	nn.SetThreads(*threads)
	fmt.Fprintf(stdout, "config=%s threads=%d graphs=%d image=%dx%d gemm=%s\n", *config, *threads, len(graphs),
		g.Config.ImageSize[0], g.Config.ImageSize[1], nn.GemmKernel())
	times := make([]float64, 0, *reps)
	for i := -benchWarmup; i < *reps; i++ {
		start := time.Now()
		if _, err := g.Forward(batch, model.Options{Seed: 1}); err != nil {
			return inputErr(err)
		}
		if i < 0 {
			continue
		}
		ms := float64(time.Since(start).Nanoseconds()) / 1e6
		times = append(times, ms)
		fmt.Fprintf(stdout, "rep %d: %.2f ms\n", i+1, ms)
	}
	slices.Sort(times)
	fmt.Fprintf(stdout, "median_ms=%.2f min_ms=%.2f\n", times[len(times)/2], times[0])
	return nil
}

// benchModel builds a named configuration with random weights or loads a
// model file.
func benchModel(config string, stderr io.Writer) (*model.Generator, error) {
	side, named := benchSides[config]
	if !named {
		_, g, err := loadModel(config, stderr)
		return g, err
	}
	vocab := model.NewVocab(
		[]string{"sky", "grass", "sheep", "tree", "ocean", "person", "cloud", "road"},
		[]string{"left of", "right of", "above", "below", "inside", "surrounding"})
	cfg := model.DefaultConfig(vocab)
	cfg.ImageSize = [2]int{side, side}
	g, err := model.New(cfg)
	if err != nil {
		return nil, err
	}
	g.InitRandom(0)
	// As torch_anchor.py does, shrink the box net's last layer and centre
	// its bias so that the predicted boxes are not degenerate.
	for _, p := range g.Params() {
		switch p.Name {
		case "box_net.2.weight":
			for i := range p.T.Data {
				p.T.Data[i] *= 0.05
			}
		case "box_net.2.bias":
			copy(p.T.Data, []float32{0.2, 0.25, 0.7, 0.8})
		}
	}
	return g, nil
}
