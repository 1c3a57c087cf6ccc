package data

import (
	"math"
	"math/rand/v2"

	"github.com/sg2im-go/sg2im/nn"
)

// Predicates of the COCO scene graphs, in the release's order
// (sg2im/data/coco.py): the index is the predicate id.
var cocoPredicates = []string{
	"__in_image__",
	"left of",
	"right of",
	"above",
	"below",
	"inside",
	"surrounding",
}

// Ids of cocoPredicates.
const (
	predInImage = iota
	predLeftOf
	predRightOf
	predAbove
	predBelow
	predInside
	predSurrounding
)

// objectCentre is the centroid of an object's M x M mask laid over its box
// (the release's torch.linspace(x0, x1, M) grid, float32, each point
// x0 + i*step), or the box
// centre when the mask is empty or missing.
func objectCentre(box [4]float32, mask []float32, m int) [2]float32 {
	x0, y0, x1, y1 := box[0], box[1], box[2], box[3]
	if m > 0 && mask != nil {
		xs, ys := nn.LinspaceStepped(x0, x1, m), nn.LinspaceStepped(y0, y1, m)
		var sx, sy float64
		n := 0
		for i := 0; i < m; i++ {
			for j := 0; j < m; j++ {
				if mask[i*m+j] == 1 {
					sx += float64(xs[j])
					sy += float64(ys[i])
					n++
				}
			}
		}
		if n > 0 {
			return [2]float32{float32(sx / float64(n)), float32(sy / float64(n))}
		}
	}
	return [2]float32{0.5 * (x0 + x1), 0.5 * (y0 + y1)}
}

// spatialPredicate is the release's rule for the predicate from s to o:
// surrounding if s's box strictly contains o's, inside if strictly inside,
// else by theta = atan2(dy, dx) of d = centre(s) - centre(o) (y down):
// left of for |theta| >= 3pi/4 (both ends included, tested first), above
// for [-3pi/4, -pi/4), right of for [-pi/4, pi/4), below for [pi/4, 3pi/4).
func spatialPredicate(sBox, oBox [4]float32, sCentre, oCentre [2]float32) int {
	sx0, sy0, sx1, sy1 := sBox[0], sBox[1], sBox[2], sBox[3]
	ox0, oy0, ox1, oy1 := oBox[0], oBox[1], oBox[2], oBox[3]
	dx, dy := sCentre[0]-oCentre[0], sCentre[1]-oCentre[1]
	theta := math.Atan2(float64(dy), float64(dx))
	switch {
	case sx0 < ox0 && sx1 > ox1 && sy0 < oy0 && sy1 > oy1:
		return predSurrounding
	case sx0 > ox0 && sx1 < ox1 && sy0 > oy0 && sy1 < oy1:
		return predInside
	case theta >= 3*math.Pi/4 || theta <= -3*math.Pi/4:
		return predLeftOf
	case -3*math.Pi/4 <= theta && theta < -math.Pi/4:
		return predAbove
	case -math.Pi/4 <= theta && theta < math.Pi/4:
		return predRightOf
	default: // pi/4 <= theta < 3pi/4
		return predBelow
	}
}

// cocoTriples draws the release's random scene graph for one image whose
// last object is __image__: for each real object, a partner chosen
// uniformly among the others and a coin for the order (subject is the
// object itself when the coin is > 0.5), then the spatial predicate; then
// one __in_image__ triple per real object. With include false only the
// __in_image__ triples are made.
func cocoTriples(boxes [][4]float32, masks [][]float32, m int, include bool, rng *rand.Rand) [][3]int {
	n := len(boxes) - 1 // real objects; the last is __image__
	var triples [][3]int
	if include && n > 1 {
		centres := make([][2]float32, len(boxes))
		for i := range boxes {
			var mk []float32
			if masks != nil {
				mk = masks[i]
			}
			centres[i] = objectCentre(boxes[i], mk, m)
		}
		for cur := 0; cur < n; cur++ {
			other := rng.IntN(n - 1)
			if other >= cur {
				other++
			}
			s, o := other, cur
			if rng.Float64() > 0.5 {
				s, o = cur, other
			}
			triples = append(triples, [3]int{s, spatialPredicate(boxes[s], boxes[o], centres[s], centres[o]), o})
		}
	}
	for i := 0; i < n; i++ {
		triples = append(triples, [3]int{i, predInImage, n})
	}
	return triples
}
