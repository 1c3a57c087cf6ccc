package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sg2im-go/sg2im/internal/atomicfile"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/viz"
	"github.com/sg2im-go/sg2im/weights"
)

// chunk bounds how many graphs go through the network at once; eval mode
// treats images independently, so chunking changes no result.
const chunk = 8

// chunkEnd ends the chunk of graphs that starts at start: at most chunk
// graphs, fewer when their activations would pass the model's budget (one
// graph always fits it, as the config was validated).
func chunkEnd(graphs []model.SceneGraph, start int, cfg *model.Config) int {
	end := start + 1
	for end < len(graphs) && end-start < chunk && activations(graphs[start:end+1], cfg) <= model.MaxActivationBytes {
		end++
	}
	return min(end, len(graphs))
}

// activations estimates the activation bytes of one batch of graphs.
func activations(graphs []model.SceneGraph, cfg *model.Config) float64 {
	objects, triples := 0, 0
	for _, g := range graphs {
		objects += len(g.Objects) + 1 // and __image__
		triples += len(g.Relationships) + len(g.Objects)
	}
	return cfg.ActivationBytes(len(graphs), objects, triples)
}

// layoutSide is the smallest side of a --layout picture, so labels fit.
const layoutSide = 256

func generate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", "Usage: sg2im generate [--model FILE] --graphs FILE.json --out DIR [--seed N] [--noise FILE.safetensors] [--dump FILE.safetensors] [--layout]\n\n"+
		"Writes img000000.png, img000001.png, ... one per scene graph.", stderr)
	modelPath := fs.String("model", "", "model: a release `checkpoint` (.pt) or an sg2im .safetensors; default: the shipped model")
	graphsPath := fs.String("graphs", "", "scene graphs: a JSON `file` holding one graph or a list; the app's exported scenes too (a graph's own \"seed\", pinned \"boxes\" and \"appearance_seeds\" are used)")
	outDir := fs.String("out", "", "output `directory` (created if missing)")
	seed := fs.Uint64("seed", 0, "seed of the layout noise; image i uses seed+i, unless its graph has a \"seed\" of its own")
	noisePath := fs.String("noise", "", "safetensors `file` with a tensor \"noise\" (N, Z, H, W) to use instead of drawing noise")
	dumpPath := fs.String("dump", "", "also write the raw outputs (img, boxes_pred, masks_pred, rel_scores, layout) to this safetensors `file`")
	drawLayout := fs.Bool("layout", false, "also write layout000000.png, ...: each object's mask and labelled box")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q; all inputs are flags", fs.Arg(0))
	}
	for _, f := range []struct{ name, v string }{{"--graphs", *graphsPath}, {"--out", *outDir}} {
		if f.v == "" {
			return usageErr("%s is required (see sg2im generate --help)", f.name)
		}
	}

	scenes, err := readScenes(*graphsPath)
	if err != nil {
		return err
	}
	graphs := make([]model.SceneGraph, len(scenes))
	for i, s := range scenes {
		graphs[i] = s.SceneGraph
	}
	_, g, err := loadModel(*modelPath, stderr)
	if err != nil {
		return err
	}
	if err := checkLooks(scenes, g, *graphsPath); err != nil {
		return err
	}
	// Encode everything first so a bad word fails before any work.
	if _, err := model.Encode(graphs, g.Config.Vocab); err != nil {
		return inputErr(fmt.Errorf("%s: %w", *graphsPath, err))
	}
	var noise *nn.Tensor
	if *noisePath != "" {
		if noise, err = readNoise(*noisePath, len(graphs), &g.Config); err != nil {
			return inputErr(err)
		}
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}

	var outs []*model.Output
	for start, end := 0, 0; start < len(graphs); start = end {
		end = chunkEnd(graphs, start, &g.Config)
		b, err := model.Encode(graphs[start:end], g.Config.Vocab)
		if err != nil {
			return inputErr(err)
		}
		opt := g.SceneOptions(scenes[start:end], sceneSeeds(scenes[start:end], *seed+uint64(start)), b)
		if noise != nil {
			per := noise.Numel() / noise.Shape[0]
			opt.Noise = nn.FromData(noise.Data[start*per:end*per], append([]int{end - start}, noise.Shape[1:]...)...)
		}
		out, err := g.Forward(b, opt)
		if err != nil {
			return inputErr(err)
		}
		if err := model.CheckFinite(out.Img); err != nil {
			return modelErr(fmt.Errorf("%s: %w", *modelPath, err))
		}
		for i, img := range model.Deprocess(out.Img) {
			if err := atomicfile.WritePNG(filepath.Join(*outDir, fmt.Sprintf("img%06d.png", start+i)), img); err != nil {
				return err
			}
		}
		if *drawLayout {
			if err := writeLayouts(*outDir, start, graphs[start:end], opt.BoxesDrawn(out), out, &g.Config); err != nil {
				return err
			}
		}
		if *dumpPath != "" {
			outs = append(outs, out)
		}
	}
	if *dumpPath != "" {
		if err := writeDump(*dumpPath, outs); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %d image(s) to %s\n", len(graphs), *outDir)
	return nil
}

// sceneSeeds are the seeds of scenes that start at seed: each scene's own,
// else seed plus its place.
func sceneSeeds(scenes []model.Scene, seed uint64) []uint64 {
	seeds := make([]uint64, len(scenes))
	for i, s := range scenes {
		seeds[i] = seed + uint64(i)
		if s.Seed != nil {
			seeds[i] = *s.Seed
		}
	}
	return seeds
}

// checkLooks refuses appearance seeds for a model without appearance vectors.
func checkLooks(scenes []model.Scene, g *model.Generator, path string) error {
	if g.Config.AppearanceDim > 0 {
		return nil
	}
	for i, s := range scenes {
		if s.AppearanceSeeds != nil {
			return inputErr(fmt.Errorf("%s: graph %d has \"appearance_seeds\", but the model has no per-object appearance; remove them or use the model the scene was made with", path, i))
		}
	}
	return nil
}

// readScenes reads and parses a scene-graph file, or the app's exported
// scenes (model.ParseScenes).
func readScenes(path string) ([]model.Scene, error) {
	raw, err := readGraphFile(path)
	if err != nil {
		return nil, err
	}
	scenes, err := model.ParseScenes(raw)
	if err != nil {
		return nil, inputErr(fmt.Errorf("%s: %w", path, err))
	}
	return scenes, nil
}

// readGraphs reads and parses a scene-graph file.
func readGraphs(path string) ([]model.SceneGraph, error) {
	raw, err := readGraphFile(path)
	if err != nil {
		return nil, err
	}
	graphs, err := model.ParseGraphs(raw)
	if err != nil {
		return nil, inputErr(fmt.Errorf("%s: %w", path, err))
	}
	return graphs, nil
}

// readGraphFile reads a scene-graph file, refusing one larger than
// model.MaxGraphBytes before reading it all.
func readGraphFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, inputErr(err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, model.MaxGraphBytes+1))
	if err != nil {
		return nil, inputErr(err)
	}
	if len(raw) > model.MaxGraphBytes {
		return nil, inputErr(fmt.Errorf("%s: more than %d MiB; a scene-graph file may hold at most %d graphs, so split it", path, model.MaxGraphBytes>>20, model.MaxGraphs))
	}
	return raw, nil
}

func readNoise(path string, n int, cfg *model.Config) (*nn.Tensor, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := weights.ReadSafetensors(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t := f.Get("noise")
	if t == nil {
		return nil, fmt.Errorf("%s: no tensor named \"noise\"; the file must hold the layout noise as \"noise\" (N, Z, H, W)", path)
	}
	want := []int{n, cfg.LayoutNoiseDim, cfg.ImageSize[0], cfg.ImageSize[1]}
	if cfg.LayoutNoiseDim == 0 {
		return nil, fmt.Errorf("%s: the model takes no noise (layout_noise_dim 0); drop --noise", path)
	}
	if !nn.SameShape(t.T.Shape, want) {
		return nil, fmt.Errorf("%s: noise has shape %v, want %v (one per graph, layout_noise_dim, image height, width)", path, t.T.Shape, want)
	}
	return t.T, nil
}

// writeLayouts draws each image's boxes (as drawn: pinned or predicted) and masks, labelled with the
// objects' names; the __image__ objects are left out.
func writeLayouts(dir string, start int, graphs []model.SceneGraph, boxes *nn.Tensor, out *model.Output, cfg *model.Config) error {
	H, W := cfg.ImageSize[0], cfg.ImageSize[1]
	scale := max(1, (layoutSide+min(H, W)-1)/min(H, W))
	M := cfg.MaskSize
	objs := make([][]viz.Object, len(graphs))
	o := 0 // first object of graph gi in the batch
	for gi, gr := range graphs {
		var masks []float32
		if out.MasksPred != nil {
			masks = out.MasksPred.Data[o*M*M:]
		}
		objs[gi] = viz.Objects(gr.Objects, boxes.Data[o*4:], masks, M)
		o += len(gr.Objects) + 1 // and its __image__
	}
	for gi := range graphs {
		img := viz.Layout(objs[gi], W*scale, H*scale)
		if err := atomicfile.WritePNG(filepath.Join(dir, fmt.Sprintf("layout%06d.png", start+gi)), img); err != nil {
			return err
		}
	}
	return nil
}

// writeDump writes the raw outputs of all chunks, concatenated as one batch.
func writeDump(path string, outs []*model.Output) error {
	cat := func(get func(*model.Output) *nn.Tensor) *nn.Tensor {
		var ts []*nn.Tensor
		for _, o := range outs {
			if t := get(o); t != nil {
				ts = append(ts, t)
			}
		}
		if len(ts) == 0 {
			return nil
		}
		return nn.Concat(0, ts...)
	}
	var ts []weights.Tensor
	for _, e := range []struct {
		name string
		get  func(*model.Output) *nn.Tensor
	}{
		{"img", func(o *model.Output) *nn.Tensor { return o.Img }},
		{"boxes_pred", func(o *model.Output) *nn.Tensor { return o.BoxesPred }},
		{"masks_pred", func(o *model.Output) *nn.Tensor { return o.MasksPred }},
		{"rel_scores", func(o *model.Output) *nn.Tensor { return o.RelScores }},
		{"layout", func(o *model.Output) *nn.Tensor { return o.Layout }},
	} {
		if t := cat(e.get); t != nil {
			ts = append(ts, weights.Tensor{Name: e.name, DType: weights.F32, T: t})
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		return weights.WriteSafetensors(w, map[string]string{"format": "sg2im-outputs"}, ts)
	})
}
