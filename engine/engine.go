// Package engine answers protocol requests with the generator: the part of
// the in-browser worker that does not touch JavaScript, so it is tested
// natively.
package engine

import (
	"errors"
	"fmt"
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

// Load replaces the model with one read from data (a release .pt or our
// .safetensors). On error the previous model stays.
func (e *Engine) Load(name string, data []byte) (*protocol.ModelInfo, error) {
	ck, err := weights.Decode(data)
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
		Params: g.NumParams(), Warnings: warnings,
	}
	return e.info, nil
}

// Info describes the loaded model, nil before the first Load.
func (e *Engine) Info() *protocol.ModelInfo { return e.info }

// InputError is a problem with the request's graph or boxes; Field names
// the part at fault for the page to show it inline.
type InputError struct {
	Field string
	Err   error
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
		return nil, &InputError{"count", fmt.Errorf("%d images requested, at most %d", count, protocol.MaxCount)}
	}
	t0 := time.Now()
	graph, field, err := e.graph(req)
	if err != nil {
		return nil, &InputError{field, err}
	}
	graphs := make([]model.SceneGraph, count)
	for i := range graphs {
		graphs[i] = graph
	}
	b, err := model.Encode(graphs, e.g.Config.Vocab)
	if err != nil {
		var uw *model.UnknownWordError
		if field != "text" && errors.As(err, &uw) {
			field = map[string]string{"object": "objects", "predicate": "relationships"}[uw.Kind]
		}
		return nil, &InputError{field, err}
	}
	opt := model.Options{Seed: req.Seed}
	nObj := len(graph.Objects)
	if req.Pinned != nil && req.Boxes == nil {
		return nil, &InputError{"boxes", fmt.Errorf("pinned flags without boxes")}
	}
	if req.Boxes != nil {
		if len(req.Boxes) != nObj {
			return nil, &InputError{"boxes", fmt.Errorf("%d boxes for %d objects", len(req.Boxes), nObj)}
		}
		if req.Pinned != nil && len(req.Pinned) != nObj {
			return nil, &InputError{"boxes", fmt.Errorf("%d pinned flags for %d objects", len(req.Pinned), nObj)}
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
	tEncode := time.Now()
	out, err := e.g.Forward(b, opt)
	if err != nil {
		return nil, &InputError{"boxes", err}
	}
	tForward := time.Now()
	imgs := model.Deprocess(out.Img)
	res := &protocol.ImagesInfo{
		Graph: graph,
		Width: imgs[0].Rect.Dx(), Height: imgs[0].Rect.Dy(),
		MaskSize: e.g.Config.MaskSize,
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

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// graph returns the request's graph, parsed from Text when Graph has no
// objects, and the request field that errors about it should name.
func (e *Engine) graph(req *protocol.GenerateRequest) (model.SceneGraph, string, error) {
	if len(req.Graph.Objects) > 0 || req.Text == "" {
		err := req.Graph.Check()
		field := "graph"
		if err != nil {
			field = graphField(err)
		}
		return req.Graph, field, err
	}
	g, err := model.ParseText(req.Text, e.info.Predicates)
	if err == nil {
		err = g.Check()
	}
	return g, "text", err
}

// graphField guesses which list a structural error is about.
func graphField(err error) string {
	if len(err.Error()) > 12 && err.Error()[:12] == "relationship" {
		return "relationships"
	}
	return "objects"
}
