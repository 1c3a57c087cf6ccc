package ui

import (
	"math/rand/v2"
	"testing"

	"github.com/sg2im-go/sg2im/model"
)

// No two nodes of the drawing overlap, from 2 objects to 64.
func TestGraphLayoutNoOverlap(t *testing.T) {
	names := []string{"sky", "grass", "sheep", "tree", "house", "person", "mountain", "cloud", "road", "car"}
	preds := []string{"above", "left of", "inside", "surrounding", "below", "right of"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 5, 8, 10, 12, 16, 24, 46, 64} {
		var g model.SceneGraph
		for i := 0; i < n; i++ {
			g.Objects = append(g.Objects, names[rng.IntN(len(names))])
		}
		for i := 0; i < n; i++ {
			g.Relationships = append(g.Relationships, model.Relationship{Subject: rng.IntN(n), Predicate: preds[rng.IntN(len(preds))], Object: rng.IntN(n)})
		}
		g.Objects = refsOf(g.Objects)
		d := layoutGraph(g)
		if k := d.overlapping(); k > 0 {
			t.Errorf("%d objects: %d overlapping pairs of nodes", n, k)
		}
		for _, nd := range append(d.Objects, d.Preds...) {
			if nd.X-nd.W/2 < -1 || nd.X+nd.W/2 > d.W+1 || nd.Y-nd.H/2 < -1 || nd.Y+nd.H/2 > d.H+1 {
				t.Errorf("%d objects: node %q at (%.0f, %.0f) outside the %0.f x %0.f drawing", n, nd.Label, nd.X, nd.Y, d.W, d.H)
				break
			}
		}
	}
}
