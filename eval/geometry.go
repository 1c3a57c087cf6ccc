package eval

import (
	"github.com/sg2im-go/sg2im/data"
)

// RelStats counts geometric triples and how many of them a layout
// satisfies, by predicate id of data.COCOPredicates (the world's
// geometric ids are the same).
type RelStats struct {
	Count, Satisfied [data.PredSurrounding + 1]int
}

// Geometric reports whether pred is one of the six geometric predicates
// of the COCO rule (left of, right of, above, below, inside, surrounding).
func Geometric(pred int) bool { return pred >= data.PredLeftOf && pred <= data.PredSurrounding }

// Add scores the geometric triples of one graph against a layout: triple
// (s, p, o) is satisfied when the rule of spec section 5
// (data.SpatialPredicate) gives p for boxes[s] and boxes[o], with centres
// at the centroids of the m x m masks (binary, row-major over each box)
// or, where masks is nil or a mask empty, at the box centres. Triples of
// other predicates are skipped.
func (r *RelStats) Add(boxes [][4]float32, masks [][]float32, m int, triples [][3]int) {
	for _, t := range triples {
		s, p, o := t[0], t[1], t[2]
		if !Geometric(p) {
			continue
		}
		var sm, om []float32
		if masks != nil {
			sm, om = masks[s], masks[o]
		}
		r.Count[p]++
		if data.SpatialPredicate(boxes[s], boxes[o], sm, om, m) == p {
			r.Satisfied[p]++
		}
	}
}

// Total returns the geometric triples counted and those satisfied.
func (r *RelStats) Total() (count, satisfied int) {
	for p := range r.Count {
		count += r.Count[p]
		satisfied += r.Satisfied[p]
	}
	return count, satisfied
}

// binarize thresholds mask probabilities at one half, as the release
// thresholds masks, so that their centroids follow data.SpatialPredicate.
func binarize(probs []float32) []float32 {
	out := make([]float32, len(probs))
	for i, v := range probs {
		if v > 0.5 {
			out[i] = 1
		}
	}
	return out
}
