// Package bench holds the speed benchmark: its inputs, shared by
// `sg2im bench` and the browser engine's bench request as
// ../shared/bench/torch_anchor.py builds them, and Profile, which adds up
// the per-layer costs a model.Recorder is told of.
package bench

import (
	"fmt"
	"slices"
	"sort"

	"github.com/sg2im-go/sg2im/model"
)

// Graph is torch_anchor.py's scene, six objects and five relationships,
// fresh on every call.
func Graph() model.SceneGraph {
	return model.SceneGraph{
		Objects: []string{"sky", "grass", "sheep", "sheep", "tree", "ocean"},
		Relationships: []model.Relationship{
			{Subject: 0, Predicate: "above", Object: 1}, {Subject: 2, Predicate: "below", Object: 0},
			{Subject: 3, Predicate: "left of", Object: 2}, {Subject: 4, Predicate: "above", Object: 2},
			{Subject: 5, Predicate: "right of", Object: 4},
		},
	}
}

// Vocab is the vocabulary of the named benchmark configurations.
func Vocab() *model.Vocab {
	return model.NewVocab(
		[]string{"sky", "grass", "sheep", "tree", "ocean", "person", "cloud", "road"},
		[]string{"left of", "right of", "above", "below", "inside", "surrounding"})
}

// benchSides are the named configurations: the release's defaults at
// these image sides, as in torch_anchor.py's CONFIGS; x256 has no anchor
// and shows how the cost grows with pixels.
var benchSides = map[string]int{"coco64": 64, "vg128": 128, "x256": 256}

// Configs lists the named benchmark configurations.
func Configs() []string {
	names := make([]string, 0, len(benchSides))
	for n := range benchSides {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return benchSides[names[i]] < benchSides[names[j]] })
	return names
}

// IsConfig reports whether name is a named benchmark configuration.
func IsConfig(name string) bool {
	_, ok := benchSides[name]
	return ok
}

// NewGenerator builds a named benchmark configuration (Configs): the
// release's default architecture at that image size with random weights
// (seed 0) and Vocab.
func NewGenerator(name string) (*model.Generator, error) {
	side, ok := benchSides[name]
	if !ok {
		return nil, fmt.Errorf("bench: unknown benchmark configuration %q; want one of %v", name, Configs())
	}
	cfg := model.DefaultConfig(Vocab())
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

// GraphFor is Graph in v's words: the same six objects and five
// relationships, each word the vocabulary lacks replaced by one it has
// (the first objects not already in the graph, the first predicate), so
// that any model times the same graph shape.
func GraphFor(v *model.Vocab) model.SceneGraph {
	objs, preds := v.Objects(), v.Predicates()
	g := Graph()
	spare := func() string {
		for _, o := range objs {
			if !slices.Contains(g.Objects, o) {
				return o
			}
		}
		return objs[0]
	}
	replaced := map[string]string{}
	for i, o := range g.Objects {
		if _, err := v.ObjectID(o); err == nil {
			continue
		}
		if r, ok := replaced[o]; ok {
			g.Objects[i] = r
			continue
		}
		if len(objs) == 0 {
			return g // nothing to draw with; Encode will say so
		}
		g.Objects[i] = spare()
		replaced[o] = g.Objects[i]
	}
	for i, r := range g.Relationships {
		if _, err := v.PredID(r.Predicate); err != nil && len(preds) > 0 {
			g.Relationships[i].Predicate = preds[0]
		}
	}
	return g
}
