package world

import (
	"math"
	"math/rand/v2"
	"slices"
)

// render plans and draws one scene on c (Supersample*size pixels a side).
// A thing that ends up mostly hidden is dropped and the scene drawn again,
// so every object of the result is plainly visible.
func render(r *rand.Rand, size, maxObjects int, c *canvas) *Scene {
	l, things := plan(r, maxObjects)
	things = drawOrder(things)
	for try := 0; ; try++ {
		sc, drop := draw(l, things, size, c)
		if drop == keep || try == maxRenderTries {
			return sc
		}
		if drop == flatten {
			l.peaks = nil
		} else {
			things = slices.Delete(things, drop, drop+1)
		}
	}
}

// Outcomes of draw besides the index of a thing to drop.
const (
	keep    = -1
	flatten = -2 // the mountain hardly shows: draw again without it
)

// draw renders a planned scene and checks that every object shows.
func draw(l *layout, things []thing, size int, c *canvas) (*Scene, int) {
	sc := &Scene{Size: size, Horizon: l.horizon, layout: l}
	// Objects: the things in drawing order, then the stuff present.
	var stuffID [numCategories]uint8
	for _, t := range things {
		sc.Objects = append(sc.Objects, Object{Category: t.cat, Foot: t.foot})
	}
	present := map[int]bool{sky: true}
	for _, b := range l.bands {
		present[b.cat] = true
	}
	present[mountain] = l.hasMountain()
	for cat := sky; cat < firstThing; cat++ {
		if present[cat] {
			sc.Objects = append(sc.Objects, Object{Category: cat, Stuff: true, Support: -1})
			stuffID[cat] = uint8(len(sc.Objects))
		}
	}
	rank := make([]int, len(sc.Objects)+1)
	for k := range things {
		rank[k+1] = k + 1
		sc.Objects[k].Rank = k + 1
	}

	c.reset(l.seed)
	c.drawStuff(l, &stuffID)
	fn := float64(c.n)
	for k := range things {
		id := uint8(k + 1)
		c.begin(id)
		drawThing(c, &things[k], &l.pal)
		o := &sc.Objects[k]
		o.FullArea = c.area(id)
		o.Full = [4]float64{float64(c.bb[0]) / fn, float64(c.bb[1]) / fn, float64(c.bb[2]) / fn, float64(c.bb[3]) / fn}
	}
	sc.Pix = make([]uint8, 3*size*size)
	sc.IDs = make([]uint8, size*size)
	c.downsample(sc.Pix, sc.IDs, Supersample, rank)
	sc.HiIDs = slices.Clone(c.ids)

	// Visible areas and boxes.
	hiArea := make([]int, len(sc.Objects)+1)
	for _, v := range sc.HiIDs {
		hiArea[v]++
	}
	boxes := make([][4]int, len(sc.Objects)+1)
	for i := range boxes {
		boxes[i] = [4]int{size, size, 0, 0}
	}
	for y := 0; y < size; y++ {
		for x, v := range sc.IDs[y*size : (y+1)*size] {
			b := &boxes[v]
			b[0], b[1], b[2], b[3] = min(b[0], x), min(b[1], y), max(b[2], x+1), max(b[3], y+1)
			sc.Objects[v-1].Area++
		}
	}
	fs := float32(size)
	for i := range sc.Objects {
		o := &sc.Objects[i]
		o.Name = categoryNames[o.Category]
		o.PixBox = boxes[i+1]
		o.Box = [4]float32{float32(o.PixBox[0]) / fs, float32(o.PixBox[1]) / fs, float32(o.PixBox[2]) / fs, float32(o.PixBox[3]) / fs}
		if !o.Stuff && o.FullArea > 0 {
			o.Visible = float64(hiArea[i+1]) / float64(o.FullArea)
		}
	}

	// The worst-hidden thing goes first; then a faint mountain; then a
	// ground band that things hide almost entirely (the largest thing
	// goes).
	minPixels := max(3, int(math.Round(minPixels64*float64(size*size)/(64*64))))
	worst, worstV := keep, minVisible
	for k := range things {
		o := &sc.Objects[k]
		v := o.Visible
		if o.Area < minPixels {
			v = 0
		}
		if v < worstV {
			worst, worstV = k, v
		}
	}
	if worst != keep {
		return sc, worst
	}
	for i := len(things); i < len(sc.Objects); i++ {
		o := &sc.Objects[i]
		switch {
		case o.Category == mountain && float64(o.Area) < minMountain*float64(size*size):
			return sc, flatten
		case o.Area < minPixels && len(things) > 0:
			big := 0
			for k := range things {
				if sc.Objects[k].FullArea > sc.Objects[big].FullArea {
					big = k
				}
			}
			return sc, big
		}
	}
	sc.facts(things, stuffID, &c.occ)
	return sc, keep
}

// Depth rule for behind / in front of between two ground things that do
// not touch: their boxes share at least a quarter of the narrower width
// and the nearer one stands at least 3% of the image lower.
const (
	behindOverlap = 0.25
	behindDepth   = 0.03
)

// facts records the semantic relationships: each ground thing is on the
// stuff under its base, each sky thing in the sky; a thing is behind
// another (and that one in front of it) when the nearer one covers part of
// it, or when both stand on the ground in line and clearly at different
// depths (the depth rule above).
func (sc *Scene) facts(things []thing, stuffID [numCategories]uint8, occ *[32]uint32) {
	for k, t := range things {
		o := &sc.Objects[k]
		if t.ground {
			o.Support = int(stuffID[sc.layout.bands[t.band].cat]) - 1
			sc.Facts = append(sc.Facts, Fact{k, predOn, o.Support})
		} else {
			o.Support = int(stuffID[sky]) - 1
			sc.Facts = append(sc.Facts, Fact{k, predIn, o.Support})
		}
	}
	for a := range things {
		for b := a + 1; b < len(things); b++ {
			if behind(&sc.Objects[a], &sc.Objects[b], things[a].ground && things[b].ground, occ[a+1]&(1<<(b+1)) != 0) {
				sc.Facts = append(sc.Facts, Fact{a, predBehind, b}, Fact{b, predInFrontOf, a})
			}
		}
	}
}

// behind is the rule for a (drawn first) behind b.
func behind(a, b *Object, bothGround, covers bool) bool {
	if b.Rank <= a.Rank {
		return false
	}
	if covers {
		return true
	}
	if !bothGround {
		return false
	}
	ov := min(a.Full[2], b.Full[2]) - max(a.Full[0], b.Full[0])
	narrow := min(a.Full[2]-a.Full[0], b.Full[2]-b.Full[0])
	return ov >= behindOverlap*narrow && b.Foot-a.Foot >= behindDepth
}
