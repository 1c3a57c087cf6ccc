package ui

import (
	"math"

	"github.com/sg2im-go/sg2im/model"
)

// graphNode is a box of the scene-graph drawing, centred at X, Y, W by H.
type graphNode struct {
	X, Y, W, H float64
	Label      string
	Index      int // object index, or relationship index for predicates
}

// graphDrawing places a graph as the paper draws it: objects on a circle,
// each relationship a predicate node between its subject and object,
// with edges subject -> predicate -> object. The drawing grows with the
// graph (W by H), so that no two nodes overlap.
type graphDrawing struct {
	W, H    float64
	cx, cy  float64 // the objects' circle, centre and radius
	r       float64
	Objects []graphNode
	Preds   []graphNode
}

// Sizes of the drawing's nodes, in its units (SVG pixels at 12 px text).
const (
	objH, predH     = 26.0, 22.0
	nodeGap, margin = 12.0, 16.0
	minRadius       = 90.0
	// relaxLimit bounds the predicates that are pushed apart, a quadratic
	// step; larger graphs keep their first placement.
	relaxLimit = 120
)

func objWidth(label string) float64  { return 14 + 7.5*float64(len(label)) }
func predWidth(label string) float64 { return 12 + 6.5*float64(len(label)) }

func layoutGraph(g model.SceneGraph) graphDrawing {
	n := len(g.Objects)
	maxW := 0.0
	for _, name := range g.Objects {
		maxW = math.Max(maxW, objWidth(name))
	}
	// Neighbours on the circle are a chord apart: make it a node and a gap.
	r := minRadius
	if n > 2 {
		r = math.Max(r, (maxW+nodeGap)/(2*math.Sin(math.Pi/float64(n))))
	}
	d := graphDrawing{W: 2*r + maxW + 2*margin, H: 2*r + objH + 2*margin + 2*predH}
	cx, cy := d.W/2, d.H/2
	d.cx, d.cy, d.r = cx, cy, r
	for i, name := range g.Objects {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(max(n, 1))
		x, y := cx, cy
		if n > 1 {
			x, y = cx+r*math.Cos(a), cy+r*math.Sin(a)
		}
		d.Objects = append(d.Objects, graphNode{X: x, Y: y, W: objWidth(name), H: objH, Label: name, Index: i})
	}
	d.placePreds(g)
	if len(d.Preds) <= relaxLimit {
		d.relax()
	}
	return d
}

// placePreds puts each predicate between its subject and object; those
// between the same pair fan out sideways.
func (d *graphDrawing) placePreds(g model.SceneGraph) {
	n := len(d.Objects)
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
			my -= objH/2 + predH
		}
		off := float64(k) * 24 * sign(k)
		mx += -dy / l * off
		my += dx / l * off
		d.Preds = append(d.Preds, graphNode{X: mx, Y: my, W: predWidth(rel.Predicate), H: predH, Label: rel.Predicate, Index: i})
	}
}

// relax pushes overlapping predicates apart (and off the objects, which
// stay), along the axis where they overlap least.
func (d *graphDrawing) relax() {
	for iter := 0; iter < 500; iter++ {
		moved := false
		for i := range d.Preds {
			p := &d.Preds[i]
			for j := i + 1; j < len(d.Preds); j++ {
				moved = push(p, &d.Preds[j], d.Preds[j]) || moved
			}
		}
		// The objects have the last word: a predicate never hides one.
		for i := range d.Preds {
			for j := range d.Objects {
				moved = d.pushOff(&d.Preds[i], d.Objects[j]) || moved
			}
		}
		if !moved {
			break
		}
	}
	d.fit()
}

// fit grows the drawing to hold every node, with a margin.
func (d *graphDrawing) fit() {
	x0, y0, x1, y1 := 0.0, 0.0, d.W, d.H
	for _, n := range append(d.Objects, d.Preds...) {
		x0, x1 = math.Min(x0, n.X-n.W/2-margin), math.Max(x1, n.X+n.W/2+margin)
		y0, y1 = math.Min(y0, n.Y-n.H/2-margin), math.Max(y1, n.Y+n.H/2+margin)
	}
	for _, nodes := range [][]graphNode{d.Objects, d.Preds} {
		for i := range nodes {
			nodes[i].X -= x0
			nodes[i].Y -= y0
		}
	}
	d.W, d.H = x1-x0, y1-y0
}

// pushOff moves predicate p off object o along the radius of the
// objects' circle, inwards from inside it, outwards from outside: one way,
// so that it cannot bounce between two neighbours.
func (d *graphDrawing) pushOff(p *graphNode, o graphNode) bool {
	ox := (p.W+o.W)/2 + 2 - math.Abs(p.X-o.X)
	oy := (p.H+o.H)/2 + 2 - math.Abs(p.Y-o.Y)
	if ox <= 0 || oy <= 0 {
		return false
	}
	dx, dy := p.X-d.cx, p.Y-d.cy
	l := math.Hypot(dx, dy)
	if l < 1e-9 {
		dx, dy, l = 0, 1, 1
	}
	step := math.Min(ox, oy) + 1
	if l < d.r {
		step = -math.Min(step, l) // towards the centre, not past it
	}
	p.X += dx / l * step
	p.Y += dy / l * step
	return true
}

// push separates p from q when they overlap; q moves too (half each)
// when qp is not nil. It reports whether they overlapped.
func push(p, qp *graphNode, q graphNode) bool {
	ox := (p.W+q.W)/2 + 2 - math.Abs(p.X-q.X)
	oy := (p.H+q.H)/2 + 2 - math.Abs(p.Y-q.Y)
	if ox <= 0 || oy <= 0 {
		return false
	}
	share := 1.0
	if qp != nil {
		share = 0.5
	}
	if ox < oy {
		s := sideOf(p.X-q.X, p.Index-q.Index)
		p.X += s * ox * share
		if qp != nil {
			qp.X -= s * ox * share
		}
	} else {
		s := sideOf(p.Y-q.Y, p.Index-q.Index)
		p.Y += s * oy * share
		if qp != nil {
			qp.Y -= s * oy * share
		}
	}
	return true
}

// sideOf is the sign of v, or of tie when v is 0 (nodes on top of each other).
func sideOf(v float64, tie int) float64 {
	if v > 0 || (v == 0 && tie >= 0) {
		return 1
	}
	return -1
}

// overlapping counts pairs of nodes that overlap.
func (d graphDrawing) overlapping() int {
	all := append(append([]graphNode(nil), d.Objects...), d.Preds...)
	count := 0
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if math.Abs(all[i].X-all[j].X) < (all[i].W+all[j].W)/2 && math.Abs(all[i].Y-all[j].Y) < (all[i].H+all[j].H)/2 {
				count++
			}
		}
	}
	return count
}

func sign(k int) float64 {
	if k%2 == 1 {
		return -1
	}
	return 1
}
