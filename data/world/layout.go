package world

import (
	"math"
	"math/rand/v2"
)

// sceneKind is the template a scene's stuff is laid out from.
type sceneKind int

const (
	meadow sceneKind = iota // grass to the bottom
	street                  // grass, a road across, maybe grass below
	beach                   // sea, then sand
	lake                    // sea, then grass
	winter                  // snow, maybe a road across
	numKinds
)

// kindWeights are the template frequencies, in percent.
var kindWeights = [numKinds]int{22, 22, 18, 18, 20}

// layout is a scene's stuff: the horizon, the mountains on it and the
// ground bands below it, in normalised coordinates (x right, y down, the
// image spans [0, 1]).
type layout struct {
	kind    sceneKind
	horizon float64
	peaks   []peak // none: no mountain
	caps    bool   // snow on the peaks
	bands   []band // ground, top to bottom; bands[0].top is the horizon
	pal     palette
	seed    uint32 // texture noise
}

// peak is one summit: apex (x, y) and the slopes (dy per dx) of its two
// flanks.
type peak struct{ x, y, left, right float64 }

// band is a strip of ground stuff whose top edge is
// y = top + amp*sin(freq*x + phase).
type band struct {
	cat                   int
	top, amp, freq, phase float64
}

func (b band) topAt(x float64) float64 { return b.top + b.amp*math.Sin(b.freq*x+b.phase) }

// palette holds a scene's colours.
type palette struct {
	dusk                        bool
	skyTop, skyBottom           rgb
	grass, sea, sand, road, snw rgb
	rock                        rgb // mountain
	line                        rgb // road markings
}

func (l *layout) hasMountain() bool { return len(l.peaks) > 0 }

// ridgeAt is the y of the mountain's skyline at x (a jagged union of the
// peaks' flanks), +Inf without mountains; the mountain is where
// ridgeAt(x) <= y < horizon.
func (l *layout) ridgeAt(x float64) (y float64, apex int) {
	y, apex = math.Inf(1), -1
	for i, p := range l.peaks {
		s := p.right
		if x < p.x {
			s = p.left
		}
		if v := p.y + s*math.Abs(x-p.x); v < y {
			y, apex = v, i
		}
	}
	if apex >= 0 {
		// Jagged rocks: value noise of 1.2% of the image in height over
		// cells 4% of the image wide.
		y += 0.012 * float64(smoothNoise(float32(x*100), 0, 4, l.seed^0x51ed))
	}
	return y, apex
}

// bandAt is the index of the ground band holding (x, y), y >= horizon.
func (l *layout) bandAt(x, y float64) int {
	b := 0
	for i := 1; i < len(l.bands); i++ {
		if y >= l.bands[i].topAt(x) {
			b = i
		}
	}
	return b
}

// bandBottom is the y where band b ends at x (1 for the last band).
func (l *layout) bandBottom(b int, x float64) float64 {
	if b+1 < len(l.bands) {
		return l.bands[b+1].topAt(x)
	}
	return 1
}

// stuffAt is the stuff category at (x, y) before any thing is drawn.
func (l *layout) stuffAt(x, y float64) int {
	if y >= l.horizon {
		return l.bands[l.bandAt(x, y)].cat
	}
	if r, _ := l.ridgeAt(x); y >= r {
		return mountain
	}
	return sky
}

// jitter returns c with each channel moved by up to ±d, and the whole
// colour by up to ±b.
func jitter(r *rand.Rand, c rgb, d, b float32) rgb {
	s := (r.Float32()*2 - 1) * b
	for i := range c {
		c[i] += s + (r.Float32()*2-1)*d
	}
	return c
}

func uniform(r *rand.Rand, a, b float64) float64 { return a + (b-a)*r.Float64() }

// pickWeighted returns an index drawn with probability proportional to w.
func pickWeighted(r *rand.Rand, w []int) int {
	t := 0
	for _, v := range w {
		t += v
	}
	k := r.IntN(t)
	for i, v := range w {
		if k < v {
			return i
		}
		k -= v
	}
	return len(w) - 1
}

// newLayout draws a scene's template, horizon, mountains, bands and
// colours.
func newLayout(r *rand.Rand) *layout {
	l := &layout{kind: sceneKind(pickWeighted(r, kindWeights[:])), seed: r.Uint32()}
	l.horizon = uniform(r, 0.3, 0.52)
	h := l.horizon
	depth := func(f float64) float64 { return h + f*(1-h) } // f of the ground's height below the horizon
	switch l.kind {
	case meadow:
		l.bands = []band{{cat: grass}}
	case street, winter:
		g := grass
		if l.kind == winter {
			g = snow
		}
		l.bands = []band{{cat: g}}
		if l.kind == street || r.Float64() < 0.4 {
			top := depth(uniform(r, 0.22, 0.5))
			bottom := top + uniform(r, 0.24, 0.36)*(1-h)
			l.bands = append(l.bands, band{cat: road, top: top})
			if bottom < 0.9 {
				l.bands = append(l.bands, band{cat: g, top: bottom})
			}
		}
	case beach, lake:
		ground := sand
		if l.kind == lake {
			ground = grass
		}
		l.bands = []band{{cat: sea}, {cat: ground, top: depth(uniform(r, 0.35, 0.62)),
			amp: uniform(r, 0.005, 0.02), freq: uniform(r, 6, 14), phase: uniform(r, 0, 2*math.Pi)}}
	}
	l.bands[0].top = h

	mountainP := [numKinds]float64{meadow: 0.45, street: 0.3, beach: 0.25, lake: 0.45, winter: 0.75}
	if r.Float64() < mountainP[l.kind] {
		n := 1 + r.IntN(3)
		for i := 0; i < n; i++ {
			// Peaks rise 8% to 26% of the image above the horizon but stay
			// below 12% from the top, so there is sky for the sun.
			p := peak{x: uniform(r, -0.1, 1.1), y: h - uniform(r, 0.08, min(0.26, h-0.12)),
				left: uniform(r, 0.45, 1.1), right: uniform(r, 0.45, 1.1)}
			l.peaks = append(l.peaks, p)
		}
		l.caps = l.kind == winter || r.Float64() < 0.45
	}
	l.pal = newPalette(r, l.kind)
	return l
}

func newPalette(r *rand.Rand, kind sceneKind) palette {
	var p palette
	p.dusk = r.Float64() < 0.16
	switch {
	case p.dusk:
		p.skyTop = jitter(r, rgb{80, 90, 170}, 15, 10)
		p.skyBottom = jitter(r, rgb{250, 175, 120}, 12, 8)
	case r.Float64() < 0.12: // overcast
		p.skyTop = jitter(r, rgb{150, 165, 185}, 8, 12)
		p.skyBottom = jitter(r, rgb{200, 208, 215}, 6, 10)
	default:
		p.skyTop = jitter(r, rgb{70, 135, 225}, 18, 12)
		p.skyBottom = jitter(r, rgb{175, 210, 245}, 10, 8)
	}
	p.grass = jitter(r, rgb{85, 155, 60}, 14, 14)
	if r.Float64() < 0.15 { // dry, yellowish grass
		p.grass = jitter(r, rgb{140, 160, 70}, 10, 10)
	}
	p.sea = jitter(r, rgb{35, 100, 170}, 14, 14)
	p.sand = jitter(r, rgb{220, 196, 140}, 10, 10)
	p.road = jitter(r, rgb{82, 82, 86}, 3, 14)
	p.snw = jitter(r, rgb{226, 234, 246}, 3, 5)
	p.rock = jitter(r, rgb{115, 110, 125}, 18, 18)
	p.line = rgb{235, 235, 225}
	if r.Float64() < 0.3 {
		p.line = rgb{235, 200, 60}
	}
	if p.dusk { // everything in the dusk light: warmer, darker
		for _, c := range []*rgb{&p.grass, &p.sea, &p.sand, &p.road, &p.snw, &p.rock} {
			c[0], c[1], c[2] = c[0]*0.9+12, c[1]*0.82, c[2]*0.8
		}
	}
	return p
}
