package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/sg2im-go/sg2im/eval"
	"github.com/sg2im-go/sg2im/internal/atomicfile"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights/shipped"
)

const evalSynopsis = `Usage: sg2im eval [--model FILE] [--n 500] [--seed S] [--json] [--classifier FILE]
       sg2im eval --train_classifier --out FILE [--seed S] [--scenes 1000] [--epochs 6]

Evaluates a model trained on the built-in world (sg2im train --dataset world)
on held-out world scenes, which training never sees. Each scene's graph is its
objects and its true triples; the model generates with the true layout and
from the graph alone. Reported:
  relationship satisfaction  share of the graphs' geometric triples (left of,
                             right of, above, below, inside, surrounding) that
                             the predicted boxes satisfy under the COCO rule
                             (centres: predicted mask centroids, or box centres
                             for models without masks), overall and per predicate
  recognisability            top-1 accuracy of an object classifier on crops of
                             the real images (the ceiling), of images generated
                             with the true layout (true boxes) and of images
                             generated from the graph (predicted boxes)
  L1                         to the real image, true layout, in ImageNet-normalised
                             units and in [0,1] pixels
  diversity                  mean |a - b| in [0,1] pixels between images of one
                             graph from two noise seeds
  box IoU                    predicted boxes against the scene's boxes
  layout                     predicted boxes reaching past the frame; pairs of
                             objects of one category whose boxes merge (IoU > 0.5),
                             predicted and real
  object FID                 Frechet distance between the classifier's penultimate
                             features of generated object crops (true and predicted
                             layout) and of the real crops of as many other
                             held-out scenes; its floor, the evaluated scenes' real
                             crops against the same reference, is reported beside it
                             (use --n 300 or more: at least 2000 crops)

The model and the classifier default to the shipped ones, built into the
binary. --train_classifier trains the object classifier on crops of real
training scenes of the world and writes it to --out; the shipped one,
weights/shipped/classifier.safetensors, is
  sg2im eval --train_classifier --out weights/shipped/classifier.safetensors`

func evalCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", evalSynopsis, stderr)
	modelPath := fs.String("model", "", "model `file` (.safetensors or release .pt) with the world's vocabulary; default: the shipped model")
	n := fs.Int("n", 500, "held-out scenes to evaluate")
	seed := fs.Uint64("seed", 0, "world seed; also draws the graphs' triples and the noise")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	clsPath := fs.String("classifier", "", "object classifier `file`; default: the shipped one; \"none\" leaves recognisability out")
	batch := fs.Int("batch", 16, "graphs per generator pass")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix products")
	train := fs.Bool("train_classifier", false, "train the object classifier instead and write it to --out")
	out := fs.String("out", "", "with --train_classifier: the classifier `file` to write")
	def := eval.DefaultTrainOptions()
	scenes := fs.Int("scenes", def.Scenes, "with --train_classifier: training scenes (every object a crop)")
	epochs := fs.Int("epochs", def.Epochs, "with --train_classifier: passes over the crops")
	sheet := fs.String("sheet", "", "also write a PNG `file` of held-out graphs: text, predicted layout, image")
	sheetN := fs.Int("sheet_n", 16, "graphs on the --sheet")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q; all inputs are flags", fs.Arg(0))
	}
	if *threads < 1 {
		return usageErr("--threads %d: want at least 1", *threads)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*threads))
	defer nn.SetThreads(0)
	nn.SetThreads(*threads)
	if *train {
		if *out == "" {
			return usageErr("--train_classifier needs --out FILE")
		}
		if *scenes < 1 || *epochs < 1 {
			return usageErr("--scenes and --epochs must be at least 1")
		}
		o := def
		o.Seed, o.Scenes, o.Epochs, o.Log = *seed, *scenes, *epochs, stderr
		c, info, err := eval.TrainClassifier(o)
		if err != nil {
			return err
		}
		if err := c.Save(*out, info); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: held-out real-crop accuracy %.4f (%d crops of %d scenes), trained in %.0fs\n",
			*out, info.HeldoutAccuracy, info.HeldoutCrops, info.HeldoutScenes, info.Seconds)
		return nil
	}
	if *n < 1 || *batch < 1 {
		return usageErr("--n and --batch must be at least 1")
	}
	opt := eval.DefaultOptions()
	opt.N, opt.Seed, opt.BatchSize = *n, *seed, *batch
	var heldout float64
	if *clsPath != "none" {
		c, info, err := loadClassifier(*clsPath)
		if err != nil {
			return modelErr(err)
		}
		opt.Classifier = c
		if info != nil {
			heldout = info.HeldoutAccuracy
		}
	}
	_, g, err := loadModel(*modelPath, stderr)
	if err != nil {
		return err
	}
	if *sheet != "" {
		img, err := eval.Sheet(g, *sheetN, *seed)
		if err != nil {
			return err
		}
		if err := atomicfile.WritePNG(*sheet, img); err != nil {
			return err
		}
	}
	start, last := time.Now(), time.Now()
	opt.Progress = func(done, total int) {
		if now := time.Now(); now.Sub(last) > 10*time.Second {
			fmt.Fprintf(stderr, "eval: %d / %d scenes\n", done, total)
			last = now
		}
	}
	r, err := eval.Run(g, opt)
	if err != nil {
		if _, ok := errors.AsType[*eval.VocabError](err); ok {
			return modelErr(fmt.Errorf("%s: %w", cmp.Or(*modelPath, shipped.ModelName), err))
		}
		return err
	}
	if r.Recognisability != nil {
		r.Recognisability.HeldoutAccuracy = heldout
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(stdout, "sg2im eval %s (%.0fs)\n", cmp.Or(*modelPath, shipped.ModelName), time.Since(start).Seconds())
	return r.WriteText(stdout)
}

// loadClassifier reads the object classifier at path, or the shipped one
// built into the binary when path is empty.
func loadClassifier(path string) (*eval.Classifier, *eval.TrainInfo, error) {
	if path == "" {
		c, info, err := eval.DecodeClassifier(shipped.Classifier)
		if err != nil {
			return nil, nil, fmt.Errorf("the shipped classifier: %w", err)
		}
		return c, info, nil
	}
	return eval.LoadClassifier(path)
}
