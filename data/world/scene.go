package world

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Scene is one rendered world scene with everything the renderer knows
// about it.
type Scene struct {
	Size int     // image side in pixels
	Pix  []uint8 // RGB, row-major, pixel (x, y) at 3*(y*Size+x)
	// IDs gives, per image pixel, 1 + the index in Objects of the object
	// that covers most of the pixel's Supersample x Supersample block
	// (ties to the nearer object). Every pixel belongs to some object, so
	// the objects' masks partition the image.
	IDs []uint8
	// HiIDs is the exact object map at the drawing resolution
	// (Supersample*Size pixels a side), same numbering as IDs.
	HiIDs []uint8
	// Objects are the things in drawing order (farther first), then the
	// stuff in category order.
	Objects []Object
	// Facts are the semantic relationships true by construction.
	Facts []Fact
	// Horizon is the y of the horizon in [0, 1].
	Horizon float64

	layout *layout
}

// Supersample is the factor scenes are drawn at before box-filtering down.
const Supersample = 4

// Object is one object of a scene.
type Object struct {
	Category int    // id in the world vocabulary
	Name     string // category name
	Stuff    bool
	// Box is the box of the visible pixels (of IDs), (x0, y0, x1, y1) in
	// [0, 1]; PixBox the same in image pixels, x1 and y1 exclusive.
	Box    [4]float32
	PixBox [4]int
	Area   int // visible image pixels
	// Things only: the box of the whole shape as drawn before nearer things
	// covered it ([0, 1], from the drawing resolution), its area there and
	// the visible share of it.
	Full     [4]float64
	FullArea int
	Visible  float64
	// Ground things: Foot is the y of the base they stand on and Support
	// the index in Objects of the stuff under it. Sky things: Support is the
	// sky. Stuff: Support is -1.
	Foot    float64
	Support int
	// Rank is the drawing order: 0 for stuff, then 1, 2, ... for the things
	// (a higher rank is drawn later, over lower ranks: nearer).
	Rank int
}

// Fact is a relationship that holds by construction: Objects[S] Pred
// Objects[O], Pred a predicate id of the world vocabulary.
type Fact struct{ S, Pred, O int }

// thing is a planned thing: its box, base and the seed of its look.
type thing struct {
	cat     int
	box     [4]float64 // x0, y0, x1, y1 in [0, 1]
	ground  bool       // stands on a ground band (else flies in the sky)
	band    int        // index of the ground band under it
	foot    float64    // y of the base
	facing  float64    // +1 right, -1 left
	variant int        // tree: 1 pine; boat: 1 motorboat
	seed    uint64
}

// Planning rules. Sizes are fractions of the image at depth 1 (the bottom
// edge); a ground thing whose base is at depth s (0 at the horizon, 1 at
// the bottom) is drawn at scale 0.3 + 0.7*s, so farther things are smaller
// and higher.
type thingRule struct {
	w, h    [2]float64 // width and height ranges at scale 1
	minS    float64    // nearest to the horizon it may stand
	ground  bool
	support []int // stuff it may stand on (ground things)
	weight  int   // how often it is chosen among the candidates
}

var rules = [numCategories]thingRule{
	sun:    {w: [2]float64{0.09, 0.15}, weight: 4},
	cloud:  {w: [2]float64{0.2, 0.34}, h: [2]float64{0.4, 0.5}, weight: 3},
	bird:   {w: [2]float64{0.12, 0.17}, h: [2]float64{0.45, 0.6}, weight: 4},
	tree:   {h: [2]float64{0.5, 0.66}, w: [2]float64{0.55, 0.7}, minS: 0.15, ground: true, support: []int{grass, snow}, weight: 4},
	house:  {w: [2]float64{0.32, 0.42}, h: [2]float64{0.85, 1.0}, minS: 0.15, ground: true, support: []int{grass, snow}, weight: 4},
	sheep:  {w: [2]float64{0.27, 0.33}, h: [2]float64{0.68, 0.75}, minS: 0.2, ground: true, support: []int{grass}, weight: 6},
	person: {h: [2]float64{0.4, 0.5}, w: [2]float64{0.36, 0.42}, minS: 0.2, ground: true, support: []int{grass, snow, sand}, weight: 2},
	car:    {w: [2]float64{0.4, 0.48}, h: [2]float64{0.44, 0.5}, minS: 0.1, ground: true, support: []int{road}, weight: 10},
	boat:   {w: [2]float64{0.34, 0.44}, h: [2]float64{0.75, 0.9}, minS: 0.15, ground: true, support: []int{sea}, weight: 7},
	flower: {h: [2]float64{0.18, 0.23}, w: [2]float64{0.55, 0.65}, minS: 0.5, ground: true, support: []int{grass}, weight: 5},
}

// For trees, persons and flowers the rule's w is a ratio of the height;
// for the others h is a ratio of the width (sun: round).
func heightFirst(cat int) bool { return cat == tree || cat == person || cat == flower }

// Visibility thresholds: a thing is dropped (and the scene drawn again)
// when less than minVisible of it shows, or fewer than minPixels64 pixels
// of a 64-pixel image; a mountain with less than 1.5% of the image is
// flattened.
const (
	minVisible     = 0.55
	minPixels64    = 10
	minMountain    = 0.015
	maxRenderTries = 6
)

// plan draws a scene's layout and things.
func plan(r *rand.Rand, maxObjects int) (*layout, []thing) {
	l := newLayout(r)
	nStuff := 1 + len(l.bands)
	if l.bands[len(l.bands)-1].cat == l.bands[0].cat && len(l.bands) == 3 {
		nStuff-- // grass or snow on both sides of the road is one object
	}
	if l.hasMountain() {
		nStuff++
	}
	slots := maxObjects - nStuff
	if slots < 1 {
		return l, nil
	}
	// Busy scenes are likelier than sparse ones: the larger of two draws.
	nThings := 1 + max(r.IntN(slots), r.IntN(slots))
	nSky := 0
	for i := 1; i < nThings; i++ {
		if r.Float64() < 0.35 {
			nSky++
		}
	}
	var things []thing
	// Ground things first: sky things then avoid what rises into the sky.
	for i := 0; i < nThings-nSky; i++ {
		if t, ok := placeGround(r, l, things); ok {
			things = append(things, t)
		}
	}
	for i := 0; i < nSky; i++ {
		if t, ok := placeSky(r, l, things); ok {
			things = append(things, t)
		}
	}
	return l, things
}

// size draws a thing's width and height at a scale.
func size(r *rand.Rand, cat int, s float64) (w, h float64) {
	ru := rules[cat]
	switch {
	case cat == sun:
		w = uniform(r, ru.w[0], ru.w[1])
		return w, w
	case heightFirst(cat):
		h = uniform(r, ru.h[0], ru.h[1]) * s
		return h * uniform(r, ru.w[0], ru.w[1]), h
	default:
		w = uniform(r, ru.w[0], ru.w[1]) * s
		return w, w * uniform(r, ru.h[0], ru.h[1])
	}
}

func placeGround(r *rand.Rand, l *layout, placed []thing) (thing, bool) {
	// Candidates: each category standing on a band the scene has.
	type cand struct{ cat, band int }
	var cands []cand
	var weights []int
	for cat := firstThing; cat < numCategories; cat++ {
		ru := rules[cat]
		if !ru.ground {
			continue
		}
		for b, bd := range l.bands {
			if slices.Contains(ru.support, bd.cat) && !slices.ContainsFunc(cands, func(c cand) bool { return c.cat == cat && l.bands[c.band].cat == bd.cat }) {
				cands = append(cands, cand{cat, b})
				weights = append(weights, ru.weight)
			}
		}
	}
	if len(cands) == 0 {
		return thing{}, false
	}
	c := cands[pickWeighted(r, weights)]
	h := l.horizon
	for try := 0; try < 30; try++ {
		// A band may appear twice (grass on both sides of a road): pick one.
		b := c.band
		if try%2 == 1 {
			for i, bd := range l.bands {
				if bd.cat == l.bands[c.band].cat && r.Float64() < 0.5 {
					b = i
				}
			}
		}
		top, bottom := l.bands[b].top+0.02, 0.985
		if b+1 < len(l.bands) {
			bottom = l.bands[b+1].top - 0.02
		}
		top = max(top, h+rules[c.cat].minS*(1-h))
		if bottom <= top {
			continue
		}
		foot := uniform(r, top, bottom)
		s := 0.3 + 0.7*(foot-h)/(1-h)
		w, ht := size(r, c.cat, s)
		if foot-ht < 0.01 || w > 0.96 {
			continue
		}
		x0 := uniform(r, 0.01, 0.99-w)
		t := thing{cat: c.cat, box: [4]float64{x0, foot - ht, x0 + w, foot}, ground: true, band: b, foot: foot}
		// The whole base must stand on the band, clear of its edges.
		ok := true
		for k := 0; k <= 4 && ok; k++ {
			x := x0 + w*float64(k)/4
			ok = l.bandAt(x, foot) == b && l.bands[b].topAt(x)+0.01 < foot && foot < l.bandBottom(b, x)-0.01
		}
		if !ok || overlapsTooMuch(t.box, placed, 0.3) {
			continue
		}
		t.finish(r)
		return t, true
	}
	return thing{}, false
}

func placeSky(r *rand.Rand, l *layout, placed []thing) (thing, bool) {
	cats := []int{sun, cloud, bird}
	weights := []int{rules[sun].weight, rules[cloud].weight, rules[bird].weight}
	if slices.ContainsFunc(placed, func(t thing) bool { return t.cat == sun }) {
		weights[0] = 0
	}
	cat := cats[pickWeighted(r, weights)]
	for try := 0; try < 30; try++ {
		w, ht := size(r, cat, 1)
		x0 := uniform(r, 0.01, 0.99-w)
		// The bottom stays 2% above the horizon and the mountains.
		floor := l.horizon
		for k := 0; k <= 8; k++ {
			rd, _ := l.ridgeAt(x0 + w*float64(k)/8)
			floor = min(floor, rd)
		}
		floor -= 0.02
		if floor-ht < 0.015 {
			continue
		}
		y0 := uniform(r, 0.015, floor-ht)
		if cat == sun && r.Float64() < 0.6 { // the sun is usually high
			y0 = uniform(r, 0.015, 0.015+(floor-ht-0.015)*0.5)
		}
		t := thing{cat: cat, box: [4]float64{x0, y0, x0 + w, y0 + ht}, foot: y0 + ht}
		bad := false
		for _, o := range placed {
			inter := intersection(t.box, o.box)
			switch {
			case inter == 0:
			case o.ground || cat == bird || o.cat == bird:
				bad = true // nothing covers a bird, no ground thing reaches a sky thing
			case (cat == sun || o.cat == sun) && inter < 0.4*math.Min(area(t.box), area(o.box)):
				// a cloud may pass in front of part of the sun
			case cat == cloud && o.cat == cloud && inter < 0.1*math.Min(area(t.box), area(o.box)):
			default:
				bad = true
			}
		}
		if bad {
			continue
		}
		t.finish(r)
		return t, true
	}
	return thing{}, false
}

// finish draws the facing, variant and look seed.
func (t *thing) finish(r *rand.Rand) {
	t.facing = 1
	if r.Float64() < 0.5 {
		t.facing = -1
	}
	switch t.cat {
	case tree:
		if r.Float64() < 0.3 {
			t.variant = 1
		}
	case boat:
		if r.Float64() < 0.35 {
			t.variant = 1
			// A motorboat is lower: keep the base, shorten the box.
			w := t.box[2] - t.box[0]
			t.box[1] = t.box[3] - 0.55*w
		}
	}
	t.seed = r.Uint64()
}

func area(b [4]float64) float64 { return (b[2] - b[0]) * (b[3] - b[1]) }

func intersection(a, b [4]float64) float64 {
	w := min(a[2], b[2]) - max(a[0], b[0])
	h := min(a[3], b[3]) - max(a[1], b[1])
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// overlapsTooMuch reports whether box shares more than frac of the smaller
// box with a placed ground thing.
func overlapsTooMuch(box [4]float64, placed []thing, frac float64) bool {
	for _, o := range placed {
		if o.ground && intersection(box, o.box) > frac*math.Min(area(box), area(o.box)) {
			return true
		}
	}
	return false
}

// drawOrder sorts things for drawing: the sun, clouds and birds first
// (they are farthest), then ground things from the horizon down.
func drawOrder(things []thing) []thing {
	out := slices.Clone(things)
	skyRank := func(t thing) int {
		switch t.cat {
		case sun:
			return 0
		case cloud:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(out, func(a, b thing) int {
		switch {
		case a.ground != b.ground:
			if a.ground {
				return 1
			}
			return -1
		case !a.ground:
			return skyRank(a) - skyRank(b)
		case a.foot < b.foot:
			return -1
		case a.foot > b.foot:
			return 1
		}
		return 0
	})
	return out
}
