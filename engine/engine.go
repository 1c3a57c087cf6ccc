// Package engine answers protocol requests with the generator: the part of
// the in-browser worker that does not touch JavaScript, so it is tested
// natively.
package engine

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/protocol"
	"github.com/sg2im-go/sg2im/weights"
)

// Engine holds one loaded model.
type Engine struct {
	g    *model.Generator
	info *protocol.ModelInfo
}

// ErrNoModel is returned by Generate before any model is loaded.
var ErrNoModel = errors.New("no model loaded yet")

// ErrNotFinite is returned by Generate when the model computes NaN or
// infinite pixels (weights that are finite but huge overflow float32):
// no such image is shown.
var ErrNotFinite = errors.New("the model computed invalid values (NaN or infinity) for this image: its weights are corrupt or out of range; load another model")

// maxRequestBytes bounds the activations of one request: the worker's
// WebAssembly memory holds at most 4 GiB, the model and page included.
const maxRequestBytes = model.MaxActivationBytes

// checkMemory refuses a request whose images would need more activation
// memory than maxRequestBytes, saying how many images fit.
// objects and triples count those of all count images.
func (e *Engine) checkMemory(count, objects, triples int) error {
	cfg := &e.g.Config
	if cfg.ActivationBytes(count, objects, triples) <= maxRequestBytes {
		return nil
	}
	fit := 0
	for fit < count && cfg.ActivationBytes(fit+1, (fit+1)*objects/count, (fit+1)*triples/count) <= maxRequestBytes {
		fit++
	}
	if fit == 0 {
		return &InputError{"objects", -1, fmt.Errorf("this graph needs more memory than a request may use at %dx%d; use fewer objects", cfg.ImageSize[0], cfg.ImageSize[1])}
	}
	return &InputError{"count", -1, fmt.Errorf("%d images of this graph need more memory than a request may use at %dx%d; ask for at most %d", count, cfg.ImageSize[0], cfg.ImageSize[1], fit)}
}

// Load replaces the model with one read from data (a release .pt or our
// .safetensors). On error the previous model stays.
func (e *Engine) Load(name string, data []byte) (*protocol.ModelInfo, error) {
	ck, err := weights.Decode(data)
	return e.use(name, ck, err)
}

// LoadFrom is Load for a model file of size bytes read from r a part at a
// time, never whole: a model loads in about the size of its weights.
func (e *Engine) LoadFrom(name string, r io.ReaderAt, size int64) (*protocol.ModelInfo, error) {
	ck, err := weights.DecodeFrom(r, size)
	return e.use(name, ck, err)
}

// use makes the generator of the checkpoint called name, decoded with
// err, the engine's model.
func (e *Engine) use(name string, ck *weights.Checkpoint, err error) (*protocol.ModelInfo, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	g, warnings, err := model.FromCheckpoint(ck)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	cfg := &g.Config
	e.g = g
	e.info = &protocol.ModelInfo{
		Name: name, Format: ck.Format,
		Objects: cfg.Vocab.Objects(), Predicates: cfg.Vocab.Predicates(),
		ImageSize: cfg.ImageSize, MaskSize: cfg.MaskSize,
		Params: g.NumParams(), AppearanceDim: cfg.AppearanceDim, Warnings: warnings,
	}
	return e.info, nil
}

// Info describes the loaded model, nil before the first Load.
func (e *Engine) Info() *protocol.ModelInfo { return e.info }

// InputError is a problem with the request's graph or boxes; Field names
// the part at fault for the page to show it inline ("objects",
// "relationships", "text", "boxes", "count", or "" for the graph as a
// whole), Index the object or relationship in it, -1 when none.
type InputError struct {
	Field string
	Index int
	Err   error
}

// graphInputError places a graph error at the field and index it names.
// The request's graph is one graph, so its place in a list is dropped.
func graphInputError(err error) *InputError {
	var ge *model.GraphError
	if !errors.As(err, &ge) {
		return &InputError{"", -1, err}
	}
	return &InputError{ge.Field, ge.Index, ge.InGraph(-1)}
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Generate draws req.Count images of req.Graph, or of the graph in req.Text.
func (e *Engine) Generate(req *protocol.GenerateRequest) (*protocol.ImagesInfo, error) {
	if e.g == nil {
		return nil, ErrNoModel
	}
	count := max(req.Count, 1)
	if count > protocol.MaxCount {
		return nil, &InputError{"count", -1, fmt.Errorf("%d images requested, at most %d", count, protocol.MaxCount)}
	}
	t0 := time.Now()
	nn.ThreadsUsed() // counts this request's products from here
	graph, err := e.graph(req)
	if err != nil {
		return nil, graphInputError(err)
	}
	graphs := make([]model.SceneGraph, count)
	for i := range graphs {
		graphs[i] = graph
	}
	b, err := model.Encode(graphs, e.g.Config.Vocab)
	if err != nil {
		return nil, graphInputError(err)
	}
	if err := e.checkMemory(count, len(b.Objs), len(b.Triples)); err != nil {
		return nil, err
	}
	opt := model.Options{Seed: req.Seed}
	nObj := len(graph.Objects)
	if req.Pinned != nil && req.Boxes == nil {
		return nil, &InputError{"boxes", -1, fmt.Errorf("pinned flags without boxes")}
	}
	if req.Boxes != nil {
		if len(req.Boxes) != nObj {
			return nil, &InputError{"boxes", -1, fmt.Errorf("%d boxes for %d objects", len(req.Boxes), nObj)}
		}
		if req.Pinned != nil && len(req.Pinned) != nObj {
			return nil, &InputError{"boxes", -1, fmt.Errorf("%d pinned flags for %d objects", len(req.Pinned), nObj)}
		}
		// Each copy of the graph gets the boxes, then its __image__ box.
		boxes := nn.New(len(b.Objs), 4)
		for i := 0; i < count; i++ {
			for j, bx := range req.Boxes {
				copy(boxes.Data[(i*(nObj+1)+j)*4:], bx[:])
			}
			copy(boxes.Data[(i*(nObj+1)+nObj)*4:], []float32{0, 0, 1, 1})
		}
		opt.Boxes = boxes
		if req.Pinned != nil {
			// Each copy's objects as asked; its __image__ box as predicted.
			opt.Pinned = make([]bool, len(b.Objs))
			for i := 0; i < count; i++ {
				copy(opt.Pinned[i*(nObj+1):], req.Pinned)
			}
		}
	}
	if opt.Appearance, err = e.looks(req, b, count); err != nil {
		return nil, err
	}
	tEncode := time.Now()
	out, err := e.g.Forward(b, opt)
	if err != nil {
		return nil, &InputError{"boxes", -1, err}
	}
	tForward := time.Now()
	if !nn.AllFinite(out.Img.Data) {
		return nil, ErrNotFinite
	}
	imgs := model.Deprocess(out.Img)
	res := &protocol.ImagesInfo{
		Graph: graph,
		Width: imgs[0].Rect.Dx(), Height: imgs[0].Rect.Dy(),
		MaskSize: e.g.Config.MaskSize,
		Threads:  max(1, nn.ThreadsUsed()),
	}
	for i, img := range imgs {
		res.Seeds = append(res.Seeds, req.Seed+uint64(i))
		res.RGBA = append(res.RGBA, img.Pix)
	}
	for j := 0; j < nObj; j++ {
		var bx [4]float32
		copy(bx[:], out.BoxesPred.Data[j*4:])
		if req.Boxes != nil && (req.Pinned == nil || req.Pinned[j]) {
			bx = req.Boxes[j]
		}
		res.Boxes = append(res.Boxes, bx)
		if out.MasksPred != nil {
			M := e.g.Config.MaskSize
			res.Masks = append(res.Masks, out.MasksPred.Data[j*M*M:(j+1)*M*M])
		}
	}
	res.Timings = map[string]float64{
		"encode":    ms(tEncode.Sub(t0)),
		"network":   ms(tForward.Sub(tEncode)),
		"deprocess": ms(time.Since(tForward)),
	}
	return res, nil
}

// looks builds the appearance vectors of a request with per-object
// appearance seeds (nil without them): each copy of the graph gets the
// seeds, its __image__ the image's draw.
func (e *Engine) looks(req *protocol.GenerateRequest, b *model.Batch, count int) (*nn.Tensor, error) {
	if req.AppearanceSeeds == nil {
		return nil, nil
	}
	if e.g.Config.AppearanceDim == 0 {
		return nil, &InputError{"appearance_seeds", -1, fmt.Errorf("this model has no per-object appearance, so an object's look cannot be drawn anew; leave the appearance seeds out")}
	}
	nObj := len(b.Objs)/count - 1
	if len(req.AppearanceSeeds) != nObj {
		return nil, &InputError{"appearance_seeds", -1, fmt.Errorf("%d appearance seeds for %d objects; give one per object (null for the image's draw)", len(req.AppearanceSeeds), nObj)}
	}
	looks := make([]*uint64, len(b.Objs))
	for i := 0; i < count; i++ {
		copy(looks[i*(nObj+1):], req.AppearanceSeeds)
	}
	return e.g.AppearanceWithLooks(req.Seed, b, looks), nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// graph returns the request's graph, or the one in its Text when Graph
// has no objects, checked against the model's words (a text's errors are
// all about the field "text").
func (e *Engine) graph(req *protocol.GenerateRequest) (model.SceneGraph, error) {
	if len(req.Graph.Objects) > 0 || req.Text == "" {
		return req.Graph, req.Graph.Check()
	}
	g, err := e.g.Config.Vocab.ParseText(req.Text)
	if err == nil {
		err = g.Check()
	}
	var ge *model.GraphError
	if errors.As(err, &ge) {
		ge.Field, ge.Index = model.FieldText, -1
	}
	return g, err
}
