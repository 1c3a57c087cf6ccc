package eval

import (
	"math"
	"testing"
)

func TestLayoutAccum(t *testing.T) {
	var a layoutAccum
	// __image__ (ignored even far out), two flowers on one spot, a tree
	// reaching 5% past the right edge.
	pred := [][4]float32{{-1, -1, 2, 2}, {0.1, 0.5, 0.3, 0.7}, {0.1, 0.5, 0.3, 0.7}, {0.8, 0, 1.05, 0.5}}
	truth := [][4]float32{{0, 0, 1, 1}, {0.1, 0.5, 0.3, 0.7}, {0.6, 0.5, 0.8, 0.7}, {0.8, 0, 1, 0.5}}
	a.add(pred, truth, []int{0, 5, 5, 7})
	s := a.stats()
	if s.BoxesOutside != 1 || math.Abs(s.MaxOverflow-0.05) > 1e-6 {
		t.Errorf("outside %d, max overflow %g; want 1, 0.05", s.BoxesOutside, s.MaxOverflow)
	}
	if s.SameCategoryPairs != 1 || s.MergedPred != 1 || s.MergedTrue != 0 || math.Abs(s.PairIoUPred-1) > 1e-6 || s.PairIoUTrue != 0 {
		t.Errorf("pairs %+v; want one pair, merged when predicted, apart in truth", s)
	}
}
