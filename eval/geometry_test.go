package eval

import (
	"math/rand/v2"
	"testing"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/data/world"
)

// Hand-made layout: a on the left, b on the right, c above both, d inside
// e (e surrounds d), and __image__ last.
var (
	handBoxes = [][4]float32{
		{0.05, 0.5, 0.25, 0.7}, // a
		{0.7, 0.5, 0.9, 0.7},   // b
		{0.4, 0.0, 0.6, 0.2},   // c
		{0.42, 0.42, 0.5, 0.5}, // d
		{0.3, 0.3, 0.6, 0.6},   // e
		{0, 0, 1, 1},           // __image__
	}
	handTrue = [][3]int{
		{0, data.PredLeftOf, 1}, {1, data.PredRightOf, 0}, {2, data.PredAbove, 0},
		{0, data.PredBelow, 2}, {3, data.PredInside, 4}, {4, data.PredSurrounding, 3},
		{0, data.PredInImage, 5}, {1, 7, 0}, // not geometric: skipped
	}
)

func TestRelStatsHandMade(t *testing.T) {
	var all RelStats
	all.Add(handBoxes, nil, 0, handTrue)
	if n, sat := all.Total(); n != 6 || sat != 6 {
		t.Errorf("true triples: %d of %d satisfied, want 6 of 6", sat, n)
	}
	for p := data.PredLeftOf; p <= data.PredSurrounding; p++ {
		if all.Count[p] != 1 || all.Satisfied[p] != 1 {
			t.Errorf("predicate %d: %d of %d satisfied, want 1 of 1", p, all.Satisfied[p], all.Count[p])
		}
	}
	// The opposite of every relationship: none holds.
	opposite := map[int]int{data.PredLeftOf: data.PredRightOf, data.PredRightOf: data.PredLeftOf,
		data.PredAbove: data.PredBelow, data.PredBelow: data.PredAbove,
		data.PredInside: data.PredSurrounding, data.PredSurrounding: data.PredInside}
	var wrong [][3]int
	for _, tr := range handTrue[:6] {
		wrong = append(wrong, [3]int{tr[0], opposite[tr[1]], tr[2]})
	}
	var none RelStats
	none.Add(handBoxes, nil, 0, wrong)
	if n, sat := none.Total(); n != 6 || sat != 0 {
		t.Errorf("opposite triples: %d of %d satisfied, want 0 of 6", sat, n)
	}
}

// TestRelStatsMaskCentroids: with masks, the rule uses their centroids: a
// wide box whose mask fills only its right end is right of a box whose
// centre lies left of that end, though the box centres say "above".
func TestRelStatsMaskCentroids(t *testing.T) {
	boxes := [][4]float32{{0, 0, 1, 0.4}, {0.4, 0.5, 0.6, 0.7}}
	const m = 4
	right := make([]float32, m*m)
	for i := 0; i < m; i++ {
		right[i*m+m-1] = 1
	}
	full := make([]float32, m*m)
	for i := range full {
		full[i] = 1
	}
	tr := [][3]int{{0, data.PredRightOf, 1}}
	var byBox, byMask RelStats
	byBox.Add(boxes, nil, 0, tr)
	byMask.Add(boxes, [][]float32{right, full}, m, tr)
	if _, sat := byBox.Total(); sat != 0 {
		t.Error("box centres: want the triple unsatisfied (the centre is above)")
	}
	if _, sat := byMask.Total(); sat != 1 {
		t.Error("mask centroids: want the triple satisfied")
	}
}

// TestWorldTriplesHoldOnTrueLayout: the metric scores the world's own
// geometric triples as all satisfied on the scenes' true boxes and masks,
// so it measures the rule the graphs were drawn with.
func TestWorldTriplesHoldOnTrueLayout(t *testing.T) {
	opts := world.DefaultOptions()
	opts.ImageSize, opts.MaskSize, opts.Heldout, opts.N = 32, 8, true, 20
	w, err := world.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var r RelStats
	for i := 0; i < opts.N; i++ {
		ex, err := w.Example(i, rand.New(rand.NewPCG(1, uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		r.Add(ex.Boxes, ex.Masks, opts.MaskSize, ex.Triples)
	}
	if n, sat := r.Total(); n == 0 || sat != n {
		t.Errorf("true layouts satisfy %d of %d world triples, want all", sat, n)
	}
}
