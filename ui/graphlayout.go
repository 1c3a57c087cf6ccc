package ui

import (
	"math"

	"github.com/sg2im-go/sg2im/model"
)

// graphNode is a box of the scene-graph drawing, centred at X, Y.
type graphNode struct {
	X, Y  float64
	Label string
	Index int // object index, or relationship index for predicates
}

// graphDrawing places a graph as the paper draws it: objects on a circle,
// each relationship a predicate node between its subject and object,
// with edges subject -> predicate -> object.
type graphDrawing struct {
	W, H    float64
	Objects []graphNode
	Preds   []graphNode
}

func layoutGraph(g model.SceneGraph, w, h float64) graphDrawing {
	d := graphDrawing{W: w, H: h}
	n := len(g.Objects)
	cx, cy := w/2, h/2
	r := math.Min(w, h)/2 - 40
	for i, name := range g.Objects {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(max(n, 1))
		x, y := cx, cy
		if n > 1 {
			x, y = cx+r*math.Cos(a), cy+r*math.Sin(a)
		}
		d.Objects = append(d.Objects, graphNode{X: x, Y: y, Label: name, Index: i})
	}
	// Predicates between the same pair fan out sideways so they don't overlap.
	seen := map[[2]int]int{}
	for i, rel := range g.Relationships {
		if rel.Subject < 0 || rel.Subject >= n || rel.Object < 0 || rel.Object >= n {
			continue
		}
		s, o := d.Objects[rel.Subject], d.Objects[rel.Object]
		key := [2]int{min(rel.Subject, rel.Object), max(rel.Subject, rel.Object)}
		k := seen[key]
		seen[key]++
		mx, my := (s.X+o.X)/2, (s.Y+o.Y)/2
		dx, dy := o.X-s.X, o.Y-s.Y
		l := math.Hypot(dx, dy)
		if l == 0 { // a self-relationship: put it above its object
			dx, dy, l = 1, 0, 1
			my -= 30
		}
		off := float64(k) * 24 * sign(k)
		mx += -dy / l * off
		my += dx / l * off
		d.Preds = append(d.Preds, graphNode{X: mx, Y: my, Label: rel.Predicate, Index: i})
	}
	return d
}

func sign(k int) float64 {
	if k%2 == 1 {
		return -1
	}
	return 1
}
