package model

import (
	"fmt"
	"slices"
	"sort"
)

// The speed benchmark's inputs, shared by `sg2im bench` and the browser
// engine's bench request, as ../shared/bench/torch_anchor.py builds them.

// BenchGraph is torch_anchor.py's scene: six objects, five relationships.
var BenchGraph = SceneGraph{
	Objects: []string{"sky", "grass", "sheep", "sheep", "tree", "ocean"},
	Relationships: []Relationship{
		{Subject: 0, Predicate: "above", Object: 1}, {Subject: 2, Predicate: "below", Object: 0},
		{Subject: 3, Predicate: "left of", Object: 2}, {Subject: 4, Predicate: "above", Object: 2},
		{Subject: 5, Predicate: "right of", Object: 4},
	},
}

// BenchVocab is the vocabulary of the named benchmark configurations.
func BenchVocab() *Vocab {
	return NewVocab(
		[]string{"sky", "grass", "sheep", "tree", "ocean", "person", "cloud", "road"},
		[]string{"left of", "right of", "above", "below", "inside", "surrounding"})
}

// benchSides are the named configurations: the release's defaults at
// these image sides, as in torch_anchor.py's CONFIGS; x256 has no anchor
// and shows how the cost grows with pixels.
var benchSides = map[string]int{"coco64": 64, "vg128": 128, "x256": 256}

// BenchConfigs lists the named benchmark configurations.
func BenchConfigs() []string {
	names := make([]string, 0, len(benchSides))
	for n := range benchSides {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return benchSides[names[i]] < benchSides[names[j]] })
	return names
}

// IsBenchConfig reports whether name is a named benchmark configuration.
func IsBenchConfig(name string) bool {
	_, ok := benchSides[name]
	return ok
}

// NewBenchGenerator builds a named benchmark configuration (BenchConfigs):
// the release's default architecture at that image size with random
// weights (seed 0) and BenchVocab.
func NewBenchGenerator(name string) (*Generator, error) {
	side, ok := benchSides[name]
	if !ok {
		return nil, fmt.Errorf("model: unknown benchmark configuration %q; want one of %v", name, BenchConfigs())
	}
	cfg := DefaultConfig(BenchVocab())
	cfg.ImageSize = [2]int{side, side}
	g, err := New(cfg)
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

// BenchGraphFor is BenchGraph in v's words: the same six objects and five
// relationships, each word the vocabulary lacks replaced by one it has
// (the first objects not already in the graph, the first predicate), so
// that any model times the same graph shape.
func BenchGraphFor(v *Vocab) SceneGraph {
	objs, preds := v.Objects(), v.Predicates()
	g := SceneGraph{Objects: slices.Clone(BenchGraph.Objects), Relationships: slices.Clone(BenchGraph.Relationships)}
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
