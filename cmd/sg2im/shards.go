package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sg2im-go/sg2im/data"
)

const shardsSynopsis = `Usage: sg2im shards --dataset coco|vg|world [dataset flags] --image_size H,W --mask_size M --out DIR [flags]

Writes the training examples that sg2im train reads (the release's filtering
rules, resized images, boxes, masks, objects and relationships) as shard
files for the PyTorch trainer (pytorch/train.py --shards DIR): DIR/index.json
and DIR/shard-NNNNN.safetensors. Each example is stored with --draws draws of
its scene graph (the release draws a fresh one each epoch; epoch e of the
PyTorch trainer uses draw e % draws). The output depends only on the flags;
each shard is written atomically, and running the same command again after
an interruption keeps the shards already written. The dataset flags are
sg2im train's.`

func shardsCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("shards", shardsSynopsis, stderr)
	var tf trainFlags
	imageSize := []int{64, 64}
	out := fs.String("out", "", "output `directory` (required)")
	numExamples := fs.Int("num_examples", 0, "write the first N examples of the dataset (0: all)")
	seed := fs.Uint64("seed", 0, "seed of the scene-graph draws")
	draws := fs.Int("draws", 10, "scene-graph draws per example (epochs before they repeat)")
	shardSize := fs.Int("shard_size", 1024, "examples per shard file")
	maskSize := fs.Int("mask_size", 16, "object mask side (0: no masks; Visual Genome has none)")
	workers := fs.Int("loader_num_workers", 4, "goroutines loading examples")
	fs.StringVar(&tf.dataset, "dataset", "coco", "coco, vg or world")
	fs.Var(intTuple{&imageSize}, "image_size", "image `H,W`")
	tf.includeRels = true
	fs.Var(releaseBool{&tf.includeRels}, "include_relationships", "add the spatial (COCO) or annotated (VG) relationships (0 or 1)")
	fs.IntVar(&tf.maxObjects, "max_objects_per_image", 8, "COCO: drop images with more objects; VG: objects drawn per image (default 10 for vg)")
	tf.coco.register(fs)
	tf.vg.register(fs)
	if err := parse(fs, mergeBoolValues(fs, args)); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q; all inputs are flags (see sg2im shards --help)", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { tf.maxObjectsSet = tf.maxObjectsSet || f.Name == "max_objects_per_image" })
	var size [2]int
	switch {
	case *out == "":
		return usageErr("--out DIR is required")
	case len(imageSize) == 1 && imageSize[0] > 0:
		size = [2]int{imageSize[0], imageSize[0]}
	case len(imageSize) == 2 && imageSize[0] > 0 && imageSize[1] > 0:
		size = [2]int{imageSize[0], imageSize[1]}
	default:
		return usageErr("--image_size %v: want H,W", imageSize)
	}
	switch {
	case *numExamples < 0:
		return usageErr("--num_examples %d: want 0 (all) or more", *numExamples)
	case *draws < 1 || *shardSize < 1 || *workers < 1:
		return usageErr("--draws, --shard_size and --loader_num_workers: want at least 1")
	case *maskSize < 0 || *maskSize&(*maskSize-1) != 0:
		return usageErr("--mask_size %d: want 0 or a power of two", *maskSize)
	}
	if tf.dataset == "vg" && *maskSize != 0 {
		fmt.Fprintln(stderr, "sg2im shards: Visual Genome has no masks; writing --mask_size 0")
		*maskSize = 0
	}
	opener, dataArgs, err := openDataset(&tf)
	if err != nil {
		return err
	}
	ds, _, err := opener(size, *maskSize)
	if err != nil {
		return inputErr(err)
	}
	dataArgs["dataset"] = tf.dataset
	prog := newShardProgress(stderr)
	ix, err := data.WriteShards(ds, data.ShardOptions{
		Dir: *out, NumExamples: *numExamples, ShardSize: *shardSize, Draws: *draws, Seed: *seed,
		ImageSize: size, MaskSize: *maskSize, Workers: *workers, Args: dataArgs,
		Progress: prog.update, Warn: func(m string) { prog.clear(); fmt.Fprintln(stderr, "warning: "+m) },
	})
	prog.clear()
	if err != nil {
		return err
	}
	skipped := 0
	for _, s := range ix.Shards {
		skipped += s.Skipped
	}
	fmt.Fprintf(stdout, "wrote %d examples (%d skipped) x %d draws in %d shards to %s in %.1fs\n",
		ix.NumExamples, skipped, ix.Draws, len(ix.Shards), *out, time.Since(prog.start).Seconds())
	return nil
}

// shardProgress is a one-line progress bar on a terminal, a line every
// 10 seconds otherwise.
type shardProgress struct {
	w        io.Writer
	terminal bool
	start    time.Time
	last     time.Time
	drawn    bool
}

func newShardProgress(w io.Writer) *shardProgress {
	return &shardProgress{w: w, terminal: isTerminal(w), start: time.Now()}
}

func (p *shardProgress) update(done, total int) {
	el := time.Since(p.start)
	eta := time.Duration(float64(el) / float64(done) * float64(total-done)).Round(time.Second)
	if p.terminal {
		const width = 30
		fill := width * done / total
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = '.'
			if i < fill {
				bar[i] = '#'
			}
		}
		fmt.Fprintf(p.w, "\r[%s] %d/%d examples, ETA %v ", bar, done, total, eta)
		p.drawn = true
		return
	}
	if time.Since(p.last) > 10*time.Second || done == total {
		fmt.Fprintf(p.w, "%d/%d examples, ETA %v\n", done, total, eta)
		p.last = time.Now()
	}
}

func (p *shardProgress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
