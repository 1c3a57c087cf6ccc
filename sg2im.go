// Package sg2im draws images from scene graphs: the entry point for Go
// programs. It loads a model (the shipped one, built in, or a release .pt or
// an sg2im .safetensors file), reads scene graphs in the release's JSON or
// the one-line syntax, and generates one image per graph, in batches:
//
//	m, err := sg2im.Shipped() // or sg2im.Load("coco64.pt")
//	if err != nil { ... }
//	graphs, err := m.Parse("sheep inside grass; sky above grass")
//	if err != nil { ... } // a *GraphError: which word, object or relationship
//	imgs, err := m.Generate(graphs, sg2im.Options{Seed: 1})
//	if err != nil { ... }
//	png.Encode(w, imgs[0].RGBA)
//
// Image i of a call draws its layout noise from Options.Seed+i, so the same
// seed, graph and model give the pixels `sg2im generate --seed`, the app and
// the widget give. Options.Boxes replace the predicted layout;
// Options.Noise replaces the noise (to reproduce another implementation's
// output exactly). ParseScenes and GenerateScenes take the app's exported
// scenes, whose own seed, pinned boxes and objects' looks they keep.
//
// The packages under this one hold the layers (model, weights, nn) and the
// training code; a program that only draws needs none of them.
package sg2im

import (
	"errors"
	"fmt"
	"image"
	"strings"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/viz"
	"github.com/sg2im-go/sg2im/weights"
	"github.com/sg2im-go/sg2im/weights/shipped"
)

// Graph is one scene graph: objects, and relationships
// [subject index, "predicate", object index] between them.
type Graph = model.SceneGraph

// Scene is a Graph as the app's Export JSON saves it, with the seed it was
// drawn with, its pinned boxes (null where the model places an object)
// and its objects' own appearance seeds, each optional.
type Scene = model.Scene

// Relationship is one triple of a Graph.
type Relationship = model.Relationship

// GraphError is a fault in the scene graphs given: its Kind, the Field
// ("objects", "relationships", "text") and Index of the item at fault.
type GraphError = model.GraphError

// Model is a loaded generator. Its methods may be called from one
// goroutine at a time.
type Model struct {
	name     string
	g        *model.Generator
	warnings []string
}

// Shipped returns the project's demo model, built into the binary: trained
// on the procedural world of data/world (sky, grass, sea, sheep, house, ...).
func Shipped() (*Model, error) { return Decode(shipped.ModelName, shipped.Model) }

// Load reads a model file: a release checkpoint (.pt, legacy or zip) or an
// sg2im .safetensors.
func Load(path string) (*Model, error) {
	ck, err := weights.Load(path)
	if err != nil {
		return nil, err
	}
	return fromCheckpoint(path, ck)
}

// Decode reads a model from the bytes of a .pt or .safetensors file; name
// labels its errors.
func Decode(name string, data []byte) (*Model, error) {
	ck, err := weights.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return fromCheckpoint(name, ck)
}

func fromCheckpoint(name string, ck *weights.Checkpoint) (*Model, error) {
	g, warnings, err := model.FromCheckpoint(ck)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Model{name: name, g: g, warnings: warnings}, nil
}

// Name is the file the model came from, or "the shipped model".
func (m *Model) Name() string { return m.name }

// Warnings are the loader's remarks on the file (e.g. settings of the
// release's that it ignores); none for most files.
func (m *Model) Warnings() []string { return m.warnings }

// Objects lists the object words the model knows, sorted.
func (m *Model) Objects() []string { return m.g.Config.Vocab.Objects() }

// Predicates lists the predicate words the model knows, sorted.
func (m *Model) Predicates() []string { return m.g.Config.Vocab.Predicates() }

// Size is the height and width of the model's images.
func (m *Model) Size() (height, width int) { return m.g.Config.ImageSize[0], m.g.Config.ImageSize[1] }

// NoiseLen is the number of layout-noise values one image takes
// (channels x height x width), 0 for a model without noise.
func (m *Model) NoiseLen() int {
	h, w := m.Size()
	return m.g.Config.LayoutNoiseDim * h * w
}

// Parse reads scene graphs in the release's JSON (one graph, or a list)
// when text starts with "{" or "[", otherwise one graph in the one-line
// syntax ("sheep inside grass; sky above grass"), and checks every word
// against the model's vocabulary. Faults in the graphs are *GraphError.
func (m *Model) Parse(text string) ([]Graph, error) {
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		graphs, err := model.ParseGraphs([]byte(t))
		if err != nil {
			return nil, err
		}
		if _, err := model.Encode(graphs, m.g.Config.Vocab); err != nil {
			if len(graphs) == 1 {
				return nil, alone(err)
			}
			return nil, err
		}
		return graphs, nil
	}
	g, err := m.g.Config.Vocab.ParseText(t)
	if err != nil {
		return nil, err
	}
	return []Graph{g}, nil
}

// ParseScenes reads what Parse reads, and also the app's exported scenes
// (Scene: a graph with "seed", "boxes" and "appearance_seeds"), which
// GenerateScenes draws as the app drew them. Faults are *GraphError.
func (m *Model) ParseScenes(text string) ([]Scene, error) {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[") {
		g, err := m.g.Config.Vocab.ParseText(t)
		if err != nil {
			return nil, err
		}
		return []Scene{{SceneGraph: g}}, nil
	}
	scenes, err := model.ParseScenes([]byte(t))
	if err != nil {
		return nil, err
	}
	if _, err := model.Encode(graphsOf(scenes), m.g.Config.Vocab); err != nil {
		if len(scenes) == 1 {
			return nil, alone(err)
		}
		return nil, err
	}
	if m.g.Config.AppearanceDim == 0 {
		for i, s := range scenes {
			if s.AppearanceSeeds != nil {
				return nil, &GraphError{Kind: model.ErrShape, Field: model.FieldAppearanceSeeds, Graph: i, Index: -1,
					Err: errors.New("this model has no per-object appearance; remove \"appearance_seeds\" or use the model the scene was made with")}
			}
		}
	}
	return scenes, nil
}

func graphsOf(scenes []Scene) []Graph {
	gs := make([]Graph, len(scenes))
	for i, s := range scenes {
		gs[i] = s.SceneGraph
	}
	return gs
}

// Options change how Generate draws.
type Options struct {
	// Seed draws the layout noise: image i of a call uses Seed+i.
	Seed uint64
	// Noise, when set, holds each graph's layout noise instead, NoiseLen
	// values in (channel, row, column) order.
	Noise [][]float32
	// Boxes, when set, hold each graph's layout instead of the predicted
	// one: a box (x0, y0, x1, y1) in [0, 1] per object.
	Boxes [][][4]float32
}

// Image is one generated image and the layout it was drawn from.
type Image struct {
	Graph Graph
	Seed  uint64
	RGBA  *image.RGBA
	// Boxes hold each object's box (x0, y0, x1, y1) in [0, 1], predicted or
	// given.
	Boxes [][4]float32
	// Masks hold each object's MaskSize x MaskSize mask, row by row, in
	// [0, 1]; nil for a model without masks.
	Masks    [][]float32
	MaskSize int
}

// Layout draws the image's layout: each object's mask (or box) in its own
// colour, inside its labelled box, at width x height pixels.
func (im *Image) Layout(width, height int) *image.RGBA {
	var masks []float32
	for _, m := range im.Masks {
		masks = append(masks, m...)
	}
	var boxes []float32
	for _, b := range im.Boxes {
		boxes = append(boxes, b[:]...)
	}
	return viz.Layout(viz.Objects(im.Graph.Objects, boxes, masks, im.MaskSize), width, height)
}

// batchSize bounds the graphs that go through the network at once; the
// generator treats images independently, so it changes no pixel.
const batchSize = 8

// Generate draws one image per graph.
func (m *Model) Generate(graphs []Graph, opt Options) ([]Image, error) {
	scenes := make([]Scene, len(graphs))
	for i, g := range graphs {
		scenes[i].SceneGraph = g
	}
	return m.GenerateScenes(scenes, opt)
}

// GenerateScenes draws one image per scene: scene i with its own seed
// when it has one, else Options.Seed+i; with its pinned boxes and its
// objects' own appearance seeds. The pixels are those the app draws for
// the scene it exported. Options.Boxes, when set, replace all boxes.
func (m *Model) GenerateScenes(scenes []Scene, opt Options) ([]Image, error) {
	graphs := graphsOf(scenes)
	if opt.Noise != nil && len(opt.Noise) != len(graphs) {
		return nil, fmt.Errorf("sg2im: %d noise entries for %d graphs", len(opt.Noise), len(graphs))
	}
	if opt.Boxes != nil && len(opt.Boxes) != len(graphs) {
		return nil, fmt.Errorf("sg2im: %d box lists for %d graphs", len(opt.Boxes), len(graphs))
	}
	if len(graphs) > model.MaxGraphs {
		return nil, fmt.Errorf("sg2im: %d graphs, at most %d a call", len(graphs), model.MaxGraphs)
	}
	out := make([]Image, 0, len(graphs))
	for start := 0; start < len(graphs); start += batchSize {
		end := min(start+batchSize, len(graphs))
		imgs, err := m.generateBatch(scenes[start:end], start, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, imgs...)
	}
	return out, nil
}

// generateBatch draws graphs, which start at index start of the call.
func (m *Model) generateBatch(scenes []Scene, start int, opt Options) ([]Image, error) {
	graphs := graphsOf(scenes)
	b, err := model.Encode(graphs, m.g.Config.Vocab)
	if err != nil {
		return nil, inBatch(err, start)
	}
	if err := m.checkScenes(scenes, start); err != nil {
		return nil, err
	}
	seeds := make([]uint64, len(scenes))
	for i, s := range scenes {
		seeds[i] = opt.Seed + uint64(start+i)
		if s.Seed != nil {
			seeds[i] = *s.Seed
		}
	}
	mo := m.g.SceneOptions(scenes, seeds, b)
	if opt.Noise != nil {
		if mo.Noise, err = m.noise(opt.Noise[start : start+len(graphs)]); err != nil {
			return nil, err
		}
	}
	if opt.Boxes != nil {
		if mo.Boxes, err = boxes(graphs, opt.Boxes[start:start+len(graphs)], start); err != nil {
			return nil, err
		}
		mo.Pinned = nil
	}
	out, err := m.g.Forward(b, mo)
	if err != nil {
		return nil, err
	}
	layout := mo.BoxesDrawn(out)
	M := m.g.Config.MaskSize
	imgs := make([]Image, len(graphs))
	o := 0 // the graph's first object in the batch
	for i, rgba := range model.Deprocess(out.Img) {
		im := Image{Graph: graphs[i], Seed: seeds[i], RGBA: rgba, MaskSize: M}
		for j := range graphs[i].Objects {
			im.Boxes = append(im.Boxes, [4]float32(layout.Data[(o+j)*4:][:4]))
			if out.MasksPred != nil {
				im.Masks = append(im.Masks, out.MasksPred.Data[(o+j)*M*M:][:M*M])
			}
		}
		imgs[i] = im
		o += len(graphs[i].Objects) + 1 // and its __image__
	}
	return imgs, nil
}

// checkScenes checks the scenes' boxes and appearance seeds, and refuses
// appearance seeds for a model without appearance vectors.
func (m *Model) checkScenes(scenes []Scene, start int) error {
	for i := range scenes {
		if err := scenes[i].Check(); err != nil {
			var ge *GraphError
			if errors.As(err, &ge) {
				return ge.InGraph(start + i)
			}
			return err
		}
		if scenes[i].AppearanceSeeds != nil && m.g.Config.AppearanceDim == 0 {
			return fmt.Errorf("sg2im: scene %d has appearance seeds, but this model has no per-object appearance; remove them or use the model the scene was made with", start+i)
		}
	}
	return nil
}

// alone drops the graph number from the error of a single graph.
func alone(err error) error {
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge.InGraph(-1)
	}
	return err
}

// inBatch renumbers a graph error of a batch by the graph's index in the call.
func inBatch(err error, start int) error {
	var ge *GraphError
	if errors.As(err, &ge) && ge.Graph >= 0 {
		return ge.InGraph(ge.Graph + start)
	}
	return err
}

// noise stacks per-graph noise into the generator's (N, Z, H, W).
func (m *Model) noise(per [][]float32) (*nn.Tensor, error) {
	n := m.NoiseLen()
	if n == 0 {
		return nil, errors.New("sg2im: the model takes no layout noise; leave Options.Noise nil")
	}
	h, w := m.Size()
	t := nn.New(len(per), m.g.Config.LayoutNoiseDim, h, w)
	for i, p := range per {
		if len(p) != n {
			return nil, fmt.Errorf("sg2im: noise of graph %d has %d values, want %d (NoiseLen)", i, len(p), n)
		}
		copy(t.Data[i*n:], p)
	}
	return t, nil
}

// boxes lays out given boxes as the generator takes them: each graph's,
// then its __image__ box covering the image.
func boxes(graphs []Graph, given [][][4]float32, start int) (*nn.Tensor, error) {
	var flat []float32
	for i, g := range graphs {
		if len(given[i]) != len(g.Objects) {
			return nil, fmt.Errorf("sg2im: graph %d: %d boxes for %d objects", start+i, len(given[i]), len(g.Objects))
		}
		for _, b := range given[i] {
			flat = append(flat, b[:]...)
		}
		flat = append(flat, 0, 0, 1, 1)
	}
	return nn.FromData(flat, len(flat)/4, 4), nil
}
