package data

import (
	"math/rand/v2"
	"slices"

	"github.com/sg2im-go/sg2im/nn"
)

// The functions below export the release's COCO rules for datasets that
// make their own images (data/world), so that a synthetic scene gets its
// masks, normalisation and spatial triples exactly as a COCO image would.

// Predicate ids of the COCO rule, in the order of COCOPredicates.
const (
	PredInImage     = predInImage
	PredLeftOf      = predLeftOf
	PredRightOf     = predRightOf
	PredAbove       = predAbove
	PredBelow       = predBelow
	PredInside      = predInside
	PredSurrounding = predSurrounding
)

// COCOPredicates returns the release's COCO predicates in id order:
// __in_image__, left of, right of, above, below, inside, surrounding.
func COCOPredicates() []string { return slices.Clone(cocoPredicates) }

// SpatialPredicate is the release's geometric rule (spec section 5) for the
// predicate from s to o, as an id of COCOPredicates: boxes are (x0, y0,
// x1, y1) in [0, 1]; centres are the centroids of the m x m masks laid over
// the boxes, or the box centres when a mask is nil, empty or m is 0.
func SpatialPredicate(sBox, oBox [4]float32, sMask, oMask []float32, m int) int {
	return spatialPredicate(sBox, oBox, objectCentre(sBox, sMask, m), objectCentre(oBox, oMask, m))
}

// SpatialTriples draws the release's random geometric triples for one
// image whose last object is __image__, consuming rng exactly as the COCO
// dataset does: for each real object a partner chosen uniformly among the
// others, a coin for the order, and the rule. The __in_image__ triples are
// not included.
func SpatialTriples(boxes [][4]float32, masks [][]float32, m int, rng *rand.Rand) [][3]int {
	t := cocoTriples(boxes, masks, m, true, rng)
	return t[:len(t)-(len(boxes)-1)]
}

// ResizeMask scales a ch x cw binary crop (row-major, 0 or 1) to m x m and
// thresholds it at half as the release does for COCO masks; dst gets m*m
// values 0 or 1.
func ResizeMask(dst []float32, src []uint8, ch, cw, m int) { resizeMask(dst, src, ch, cw, m) }

// ImageTensor turns 8-bit RGB pixels (row-major, 3 bytes a pixel, w*h
// pixels) into a (3, h, w) tensor scaled to [0, 1] and, if normalize,
// ImageNet-normalised, as the datasets hand images out.
func ImageTensor(pix []uint8, w, h int, normalize bool) *nn.Tensor {
	return imageTensor(&rgbImage{w: w, h: h, pix: pix}, normalize)
}
