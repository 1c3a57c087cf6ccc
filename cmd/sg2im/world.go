package main

import (
	"fmt"
	"io"
	"time"

	"github.com/sg2im-go/sg2im/data/world"
)

// worldCmd exports scenes of the built-in world in COCO format.
func worldCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("world", "Usage: sg2im world --out DIR --n N --seed S [flags]\n\n"+
		"Renders N scenes of the built-in procedural world (scene i drawn from the seed\n"+
		"and i alone) and writes them in COCO format: DIR/images/*.png, DIR/instances.json\n"+
		"(things), DIR/stuff.json (stuff), both with RLE masks of the visible pixels, and\n"+
		"DIR/relationships.json (every semantic fact and the geometric predicate of every\n"+
		"ordered pair of objects, by annotation id). --heldout draws the evaluation\n"+
		"scenes, which training never sees.", stderr)
	def := world.DefaultOptions()
	out := fs.String("out", "", "output directory (required)")
	n := fs.Int("n", 1000, "number of scenes")
	seed := fs.Uint64("seed", 0, "world seed")
	imageSize := fs.Int("image_size", def.ImageSize, "image side in pixels (16..256)")
	maskSize := fs.Int("mask_size", def.MaskSize, "mask size used for the geometric relationships (0: box centres)")
	maxObjects := fs.Int("max_objects", def.MaxObjects, "most objects a scene, stuff included (3..30)")
	heldout := fs.Bool("heldout", false, "export the held-out (evaluation) scenes")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageErr("--out DIR is required")
	}
	if fs.NArg() != 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	if *n < 1 {
		return usageErr("--n %d: want at least 1 scene", *n)
	}
	opts := def
	opts.Seed, opts.ImageSize, opts.MaskSize, opts.MaxObjects, opts.Heldout = *seed, *imageSize, *maskSize, *maxObjects, *heldout
	opts.N = max(opts.N, *n)
	w, err := world.New(opts)
	if err != nil {
		return usageErr("%v", err)
	}
	start := time.Now()
	last := start
	err = world.WriteCOCO(*out, w, *n, func(done int) {
		if now := time.Now(); now.Sub(last) > 5*time.Second {
			fmt.Fprintf(stderr, "%d / %d scenes\n", done, *n)
			last = now
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d scenes (%dx%d, seed %d) to %s in %.1fs\n", *n, *imageSize, *imageSize, *seed, *out, time.Since(start).Seconds())
	return nil
}
