package data

import (
	"math/rand/v2"
	"testing"
)

func TestSpatialPredicate(t *testing.T) {
	big := [4]float32{0.1, 0.1, 0.9, 0.9}
	small := [4]float32{0.3, 0.3, 0.6, 0.6}
	left := [4]float32{0.0, 0.4, 0.2, 0.6}
	right := [4]float32{0.8, 0.4, 1.0, 0.6}
	top := [4]float32{0.4, 0.0, 0.6, 0.2}
	bottom := [4]float32{0.4, 0.8, 0.6, 1.0}
	centre := func(b [4]float32) [2]float32 { return [2]float32{(b[0] + b[2]) / 2, (b[1] + b[3]) / 2} }
	tests := []struct {
		name string
		s, o [4]float32
		sc   *[2]float32 // centre of s when not the box centre
		oc   *[2]float32
		want int
	}{
		{"surrounding", big, small, nil, nil, predSurrounding},
		{"inside", small, big, nil, nil, predInside},
		{"left of", left, right, nil, nil, predLeftOf},
		{"right of", right, left, nil, nil, predRightOf},
		{"above", top, bottom, nil, nil, predAbove},
		{"below", bottom, top, nil, nil, predBelow},
		// Containment needs strict inequalities: a shared edge is spatial.
		{"shared edge", [4]float32{0.1, 0.1, 0.9, 0.9}, [4]float32{0.1, 0.3, 0.5, 0.6}, nil, nil, predRightOf},
		// theta exactly -3pi/4 (d = (-1, -1)): the release tests "left of"
		// (theta <= -3pi/4) first.
		{"theta -3pi/4", left, left, &[2]float32{0, 0}, &[2]float32{1, 1}, predLeftOf},
		// theta exactly -pi/4 (d = (1, -1)): right of; pi/4: below;
		// 3pi/4: left of.
		{"theta -pi/4", left, left, &[2]float32{1, 0}, &[2]float32{0, 1}, predRightOf},
		{"theta pi/4", left, left, &[2]float32{1, 1}, &[2]float32{0, 0}, predBelow},
		{"theta 3pi/4", left, left, &[2]float32{0, 1}, &[2]float32{1, 0}, predLeftOf},
		// Equal centres: atan2(0, 0) = 0, right of.
		{"same centre", left, left, nil, nil, predRightOf},
	}
	for _, tc := range tests {
		sc, oc := centre(tc.s), centre(tc.o)
		if tc.sc != nil {
			sc, oc = *tc.sc, *tc.oc
		}
		if got := spatialPredicate(tc.s, tc.o, sc, oc); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, cocoPredicates[got], cocoPredicates[tc.want])
		}
	}
}

func TestObjectCentre(t *testing.T) {
	b := [4]float32{0, 0, 0.3, 0.6}
	// M = 4: the grid is linspace(0, 0.3, 4) = 0, 0.1, 0.2, 0.3 across and
	// 0, 0.2, 0.4, 0.6 down. Mask pixels (row 0, col 3) and (row 2, col 3):
	// centroid (0.3, 0.2).
	mask := make([]float32, 16)
	mask[0*4+3], mask[2*4+3] = 1, 1
	got := objectCentre(b, mask, 4)
	if d := max(abs32(got[0]-0.3), abs32(got[1]-0.2)); d > 1e-6 {
		t.Errorf("centroid %v, want (0.3, 0.2)", got)
	}
	// An empty or missing mask gives the box centre.
	for _, m := range [][]float32{make([]float32, 16), nil} {
		if got := objectCentre(b, m, 4); got != [2]float32{0.15, 0.3} {
			t.Errorf("centre %v, want (0.15, 0.3)", got)
		}
	}
	// The centroid, not the box centre, decides: s's box centre (0.7, 0.5)
	// is right of o's (0.5, 0.5), but its mask's mass is in its left
	// column, x = 0.4: left of.
	s := [4]float32{0.4, 0.4, 1.0, 0.6}
	o := [4]float32{0.45, 0.3, 0.55, 0.7}
	ms := make([]float32, 16)
	for r := 0; r < 4; r++ {
		ms[r*4] = 1
	}
	if p := spatialPredicate(s, o, objectCentre(s, nil, 4), objectCentre(o, nil, 4)); p != predRightOf {
		t.Errorf("with box centres: %q, want right of", cocoPredicates[p])
	}
	if p := spatialPredicate(s, o, objectCentre(s, ms, 4), objectCentre(o, nil, 4)); p != predLeftOf {
		t.Errorf("with the mask centroid: %q, want left of", cocoPredicates[p])
	}
}

func abs32(v float32) float32 { return max(v, -v) }

func TestCOCOTriples(t *testing.T) {
	boxes := [][4]float32{{0, 0, 0.2, 0.2}, {0.5, 0.5, 0.7, 0.7}, {0.8, 0, 1, 0.2}, {0, 0, 1, 1}}
	rng := rand.New(rand.NewPCG(3, 4))
	tr := cocoTriples(boxes, nil, 0, true, rng)
	if len(tr) != 3+3 {
		t.Fatalf("%d triples, want one per object and one __in_image__ per object", len(tr))
	}
	for i, x := range tr[:3] {
		if x[0] == x[2] || x[0] > 2 || x[2] > 2 || (x[0] != i && x[2] != i) {
			t.Errorf("triple %d %v: want object %d paired with another real object", i, x, i)
		}
		if want := spatialPredicate(boxes[x[0]], boxes[x[2]], objectCentre(boxes[x[0]], nil, 0), objectCentre(boxes[x[2]], nil, 0)); x[1] != want {
			t.Errorf("triple %v: predicate %d, want %d", x, x[1], want)
		}
	}
	for i, x := range tr[3:] {
		if x != [3]int{i, predInImage, 3} {
			t.Errorf("in-image triple %d = %v", i, x)
		}
	}
	// Without relationships, and with a single object, only __in_image__.
	if tr := cocoTriples(boxes, nil, 0, false, rng); len(tr) != 3 {
		t.Errorf("without relationships: %v", tr)
	}
	if tr := cocoTriples(boxes[2:], nil, 0, true, rng); len(tr) != 1 || tr[0] != [3]int{0, predInImage, 1} {
		t.Errorf("one object: %v", tr)
	}
	// The same rng state gives the same graph.
	a := cocoTriples(boxes, nil, 0, true, rand.New(rand.NewPCG(9, 9)))
	b := cocoTriples(boxes, nil, 0, true, rand.New(rand.NewPCG(9, 9)))
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different triples: %v vs %v", a, b)
		}
	}
}
