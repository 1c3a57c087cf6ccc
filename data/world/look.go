package world

import (
	"math"
	"math/rand/v2"
)

// A thing's look is drawn inside its planned box from its own seed, so
// that drawing it again (after another thing was dropped) gives the same
// pixels. Sizes are fractions of the box; u is one pixel of a 64-pixel
// image in canvas pixels, the floor for strokes that must survive the
// downsampling.

// pen draws one thing into a canvas: the box in canvas pixels and helpers.
type pen struct {
	c              *canvas
	r              *rand.Rand
	x0, y0, x1, y1 float64
	w, h           float64
	u              float64
	facing         float64 // +1 faces right, -1 left
}

// at is the x of the fraction a of the box along the thing's facing (0
// back, 1 front).
func (p *pen) at(a float64) float64 {
	if p.facing > 0 {
		return p.x0 + a*p.w
	}
	return p.x1 - a*p.w
}

func (p *pen) fy(f float64) float64 { return p.y0 + f*p.h }

// pick returns one of the colours, jittered by up to ±d a channel.
func (p *pen) pick(d float32, cols ...rgb) rgb {
	return jitter(p.r, cols[p.r.IntN(len(cols))], d, d/2)
}

func (p *pen) stroke(f float64) float64 { return max(f, 0.9*p.u) }

func drawThing(c *canvas, t *thing, pal *palette) {
	n := float64(c.n)
	p := &pen{c: c, r: rand.New(rand.NewPCG(t.seed, 0x100c)),
		x0: t.box[0] * n, y0: t.box[1] * n, x1: t.box[2] * n, y1: t.box[3] * n,
		u: n / 64, facing: t.facing}
	p.w, p.h = p.x1-p.x0, p.y1-p.y0
	switch t.cat {
	case sun:
		p.sun(pal)
	case cloud:
		p.cloud(pal)
	case bird:
		p.bird(pal)
	case tree:
		if t.variant == 1 {
			p.pine()
		} else {
			p.tree()
		}
	case house:
		p.house(pal)
	case sheep:
		p.sheep()
	case person:
		p.person()
	case car:
		p.car()
	case boat:
		if t.variant == 1 {
			p.motorboat()
		} else {
			p.sailboat()
		}
	case flower:
		p.flower()
	}
}

func (p *pen) sun(pal *palette) {
	cx, cy := (p.x0+p.x1)/2, (p.y0+p.y1)/2
	R := p.w / 2
	col := p.pick(8, rgb{255, 235, 90}, rgb{255, 220, 60}, rgb{255, 245, 150})
	if pal.dusk {
		col = p.pick(8, rgb{255, 150, 60}, rgb{250, 110, 50}, rgb{255, 190, 80})
	}
	r := R
	if p.r.Float64() < 0.35 { // rays
		r = R / 1.55
		k := 8 + 4*p.r.IntN(2)
		a0 := p.r.Float64() * math.Pi
		for i := 0; i < k; i++ {
			a := a0 + 2*math.Pi*float64(i)/float64(k)
			ca, sa := math.Cos(a), math.Sin(a)
			p.c.line(cx+ca*r*1.25, cy+sa*r*1.25, cx+ca*(R-p.u/2), cy+sa*(R-p.u/2), p.stroke(0.18*r), col)
		}
	}
	p.c.circle(cx, cy, r, col, 0)
	p.c.circle(cx-0.15*r, cy-0.15*r, 0.6*r, mix(col, rgb{255, 255, 235}, 0.5), 0)
}

func (p *pen) cloud(pal *palette) {
	shade := rgb{200, 206, 220}
	light := p.pick(4, rgb{250, 250, 252}, rgb{240, 242, 246})
	if pal.dusk {
		shade, light = rgb{170, 140, 160}, rgb{250, 210, 200}
	}
	k := 3 + p.r.IntN(3)
	type lump struct{ x, y, r float64 }
	lumps := make([]lump, k)
	base := p.fy(0.68)
	for i := range lumps {
		t := (float64(i) + 0.5) / float64(k)
		// Lumps are biggest in the middle of the cloud.
		r := p.h * (0.28 + 0.2*math.Sin(math.Pi*t)) * uniform(p.r, 0.85, 1.1)
		x := p.x0 + p.w*(0.15+0.7*t) + uniform(p.r, -0.04, 0.04)*p.w
		x = min(max(x, p.x0+r), p.x1-r)
		lumps[i] = lump{x, min(base, p.y1-r), r}
	}
	bottom := p.y1 - 0.06*p.h
	for pass, col := range []rgb{shade, light} {
		dy := 0.0
		if pass == 1 {
			dy = -0.1 * p.h // the lit top sits higher: a shaded underside shows
		}
		for _, l := range lumps {
			p.c.circle(l.x, l.y+dy, l.r, col, 3)
		}
		p.c.rect(lumps[0].x, base+dy, lumps[k-1].x, bottom+dy, col, 3)
	}
}

func (p *pen) bird(pal *palette) {
	col := p.pick(10, rgb{40, 40, 45}, rgb{60, 50, 45}, rgb{30, 30, 35})
	if !pal.dusk && p.r.Float64() < 0.25 { // a gull
		col = rgb{245, 245, 245}
	}
	cx := (p.x0 + p.x1) / 2
	elbow := uniform(p.r, 0, 0.3) // wings up (0) to level
	tip := uniform(p.r, 0.35, 0.8)
	lw := p.stroke(0.24 * p.h)
	pad := lw / 2
	x0, x1 := p.x0+pad, p.x1-pad
	y0, y1 := p.y0+pad, p.y1-pad
	hh := y1 - y0
	body := y0 + 0.7*hh
	p.c.line(cx, body, cx-0.3*(x1-x0), y0+elbow*hh, lw, col)
	p.c.line(cx-0.3*(x1-x0), y0+elbow*hh, x0, y0+tip*hh, lw, col)
	p.c.line(cx, body, cx+0.3*(x1-x0), y0+elbow*hh, lw, col)
	p.c.line(cx+0.3*(x1-x0), y0+elbow*hh, x1, y0+tip*hh, lw, col)
	p.c.ellipse(cx, body, max(0.08*p.w, lw*0.8), max(0.16*p.h, lw*0.6), col, 0)
}

func (p *pen) tree() {
	cx := (p.x0 + p.x1) / 2
	bark := p.pick(10, rgb{100, 70, 40}, rgb{85, 60, 40}, rgb{120, 85, 50})
	tw := p.stroke(0.14 * p.w)
	p.c.rect(cx-tw/2, p.fy(0.5), cx+tw/2, p.y1, bark, 6)
	leaf := p.pick(12, rgb{50, 125, 45}, rgb{70, 140, 40}, rgb{40, 105, 55}, rgb{90, 150, 50})
	if p.r.Float64() < 0.12 { // autumn
		leaf = p.pick(12, rgb{215, 120, 35}, rgb{200, 160, 40}, rgb{180, 70, 35})
	}
	dark, light := scale(leaf, 0.72), mix(leaf, rgb{200, 230, 120}, 0.3)
	// The crown: an ellipse in the top 68% of the box, lumps on it, a
	// lighter side towards the upper left.
	ccx, ccy := cx, p.fy(0.36)
	rx, ry := 0.44*p.w, 0.3*p.h
	p.c.ellipse(ccx, ccy, rx, ry, dark, 8)
	k := 5 + p.r.IntN(3)
	for i := 0; i < k; i++ {
		a := 2 * math.Pi * (float64(i) + p.r.Float64()*0.5) / float64(k)
		r := min(0.5*p.w, 0.36*p.h) * uniform(p.r, 0.5, 0.65)
		x := ccx + math.Cos(a)*(rx-r)*0.95
		y := ccy + math.Sin(a)*(ry-r*0.9)*0.95
		col := leaf
		if math.Sin(a) > 0.3 { // lower lumps are in shade
			col = dark
		}
		p.c.circle(x, max(y, p.y0+r), r, col, 9)
	}
	p.c.circle(ccx-0.14*p.w, ccy-0.1*p.h, 0.22*p.w, light, 8)
}

func (p *pen) pine() {
	cx := (p.x0 + p.x1) / 2
	bark := p.pick(8, rgb{90, 60, 35}, rgb{75, 55, 40})
	tw := p.stroke(0.13 * p.w)
	p.c.rect(cx-tw/2, p.fy(0.8), cx+tw/2, p.y1, bark, 5)
	green := p.pick(10, rgb{30, 95, 50}, rgb{25, 80, 45}, rgb{45, 105, 55})
	shadow := scale(green, 0.75)
	tiers := 3 + p.r.IntN(2)
	for i := 0; i < tiers; i++ {
		// Tier i spans from bottom to top, each narrower and overlapping
		// the one below by a third.
		t := float64(i) / float64(tiers)
		bottom := p.fy(0.86 - 0.8*t)
		top := p.fy(max(0, 0.86-0.8*t-1.5*0.8/float64(tiers)))
		half := p.w / 2 * (1 - 0.6*t)
		p.c.poly([]float64{cx - half, bottom, cx, top, cx + half, bottom}, green, 7)
		p.c.poly([]float64{cx + 0.05*half, bottom, cx, top + (bottom-top)*0.1, cx + half, bottom}, shadow, 7)
	}
}

func (p *pen) house(pal *palette) {
	wall := p.pick(10, rgb{235, 225, 200}, rgb{245, 245, 240}, rgb{230, 200, 120}, rgb{200, 90, 70}, rgb{170, 190, 215}, rgb{215, 170, 130})
	roof := p.pick(10, rgb{170, 50, 40}, rgb{120, 60, 40}, rgb{80, 80, 90}, rgb{140, 80, 50}, rgb{70, 90, 120})
	roofBottom := p.fy(0.44)
	wx0, wx1 := p.x0+0.08*p.w, p.x1-0.08*p.w
	if p.r.Float64() < 0.5 { // chimney
		cx := p.at(uniform(p.r, 0.6, 0.75))
		cw := p.stroke(0.09 * p.w)
		p.c.rect(cx-cw/2, p.fy(0.04), cx+cw/2, p.fy(0.3), scale(roof, 0.8), 5)
	}
	p.c.rect(wx0, p.fy(0.4), wx1, p.y1, wall, 6)
	if p.r.Float64() < 0.6 {
		p.c.poly([]float64{p.x0, roofBottom, (p.x0 + p.x1) / 2, p.y0, p.x1, roofBottom}, roof, 8)
	} else { // a hipped roof
		p.c.poly([]float64{p.x0, roofBottom, p.x0 + 0.25*p.w, p.y0 + 0.04*p.h, p.x1 - 0.25*p.w, p.y0 + 0.04*p.h, p.x1, roofBottom}, roof, 8)
	}
	// Eaves shadow under the roof.
	p.c.rect(wx0, roofBottom, wx1, roofBottom+max(0.04*p.h, 0.6*p.u), scale(wall, 0.75), 0)
	door := p.pick(10, rgb{100, 60, 35}, rgb{60, 40, 30}, rgb{140, 40, 40}, rgb{50, 70, 110})
	dw := max(0.17*p.w, 1.5*p.u)
	dx := p.at(uniform(p.r, 0.3, 0.45))
	p.c.rect(dx-dw/2, p.fy(0.66), dx+dw/2, p.y1, door, 4)
	glass := rgb{165, 200, 230}
	if pal.dusk {
		glass = rgb{250, 215, 110}
	}
	ws := max(0.16*p.w, 1.5*p.u)
	for _, a := range []float64{0.72, 0.14} {
		if a == 0.14 && p.r.Float64() < 0.5 {
			continue
		}
		x := p.at(a + 0.5*ws/p.w)
		if a == 0.14 {
			x = p.at(0.08 + 0.5*ws/p.w + 0.04)
		}
		p.c.rect(x-ws/2, p.fy(0.55), x+ws/2, p.fy(0.55)+ws*0.9, glass, 3)
	}
}

func (p *pen) sheep() {
	wool := p.pick(8, rgb{238, 235, 225}, rgb{228, 222, 205}, rgb{245, 243, 238})
	face := p.pick(8, rgb{45, 40, 40}, rgb{30, 28, 28}, rgb{70, 60, 55})
	if p.r.Float64() < 0.25 {
		face = p.pick(8, rgb{200, 170, 140}, rgb{180, 150, 120})
	}
	legW := p.stroke(0.07 * p.w)
	for _, a := range []float64{0.2, 0.34, 0.6, 0.74} {
		p.c.rect(p.at(a)-legW/2, p.fy(0.55), p.at(a)+legW/2, p.y1, rgb{50, 45, 45}, 0)
	}
	bx, by := p.at(0.45), p.fy(0.42)
	rx, ry := 0.38*p.w, 0.28*p.h
	shade := scale(wool, 0.85)
	p.c.ellipse(bx, by+0.03*p.h, rx, ry, shade, 10)
	for i := 0; i < 8; i++ {
		a := 2 * math.Pi * float64(i) / 8
		r := 0.12 * p.w
		p.c.circle(bx+math.Cos(a)*(rx-r*0.7), by+math.Sin(a)*(ry-r*0.6)-0.02*p.h, r, wool, 10)
	}
	p.c.ellipse(bx, by-0.03*p.h, rx*0.8, ry*0.75, wool, 10)
	hx, hy := p.at(0.86), p.fy(0.3)
	p.c.ellipse(p.at(0.8), hy-0.1*p.h, 0.08*p.w, 0.05*p.h, face, 0) // ear
	p.c.ellipse(hx, hy, 0.12*p.w, 0.16*p.h, face, 0)
}

func (p *pen) person() {
	skin := p.pick(6, rgb{240, 200, 170}, rgb{225, 175, 135}, rgb{190, 140, 100}, rgb{140, 95, 65}, rgb{100, 68, 48})
	hair := p.pick(6, rgb{40, 30, 25}, rgb{90, 60, 35}, rgb{200, 170, 100}, rgb{20, 20, 20}, rgb{150, 80, 40})
	shirt := p.pick(15, rgb{200, 40, 40}, rgb{40, 80, 190}, rgb{240, 200, 40}, rgb{40, 150, 70}, rgb{240, 240, 240}, rgb{230, 120, 40}, rgb{150, 60, 170})
	legs := p.pick(10, rgb{50, 70, 130}, rgb{35, 35, 40}, rgb{110, 85, 60}, rgb{120, 120, 130})
	cx := (p.x0 + p.x1) / 2
	hr := 0.1 * p.h
	limb := p.stroke(0.15 * p.w)
	// Legs: standing, or walking with the legs apart.
	if p.r.Float64() < 0.5 {
		p.c.rect(cx-0.3*p.w, p.fy(0.54), cx-0.03*p.w, p.y1, legs, 4)
		p.c.rect(cx+0.03*p.w, p.fy(0.54), cx+0.3*p.w, p.y1, legs, 4)
	} else {
		lw := p.stroke(0.24 * p.w)
		p.c.line(cx-0.1*p.w, p.fy(0.58), cx-0.36*p.w+lw/2, p.y1-lw/2, lw, legs)
		p.c.line(cx+0.1*p.w, p.fy(0.58), cx+0.36*p.w-lw/2, p.y1-lw/2, lw, legs)
	}
	// Arms: down, or one waving.
	sy := p.fy(0.25)
	ax := 0.5*p.w - limb/2
	p.c.line(cx-0.3*p.w, sy, cx-ax, p.fy(0.52), limb, scale(shirt, 0.85))
	if p.r.Float64() < 0.3 {
		p.c.line(cx+0.3*p.w, sy, cx+ax, p.y0+2*hr, limb, scale(shirt, 0.85))
	} else {
		p.c.line(cx+0.3*p.w, sy, cx+ax, p.fy(0.52), limb, scale(shirt, 0.85))
	}
	if p.r.Float64() < 0.25 { // a dress
		p.c.poly([]float64{cx - 0.3*p.w, p.fy(0.21), cx + 0.3*p.w, p.fy(0.21), cx + 0.45*p.w, p.fy(0.78), cx - 0.45*p.w, p.fy(0.78)}, shirt, 6)
	} else {
		p.c.poly([]float64{cx - 0.34*p.w, p.fy(0.21), cx + 0.34*p.w, p.fy(0.21), cx + 0.28*p.w, p.fy(0.58), cx - 0.28*p.w, p.fy(0.58)}, shirt, 6)
	}
	p.c.rect(cx-0.08*p.w, p.fy(0.17), cx+0.08*p.w, p.fy(0.23), skin, 0) // neck
	hy := p.y0 + hr
	p.c.circle(cx, hy, hr, skin, 3)
	p.c.ellipse(cx-p.facing*0.2*hr, hy-0.35*hr, hr*1.02, hr*0.7, hair, 3)
}

func (p *pen) car() {
	body := p.pick(12, rgb{200, 30, 35}, rgb{30, 70, 170}, rgb{240, 200, 30}, rgb{235, 235, 235}, rgb{30, 30, 35}, rgb{40, 130, 60}, rgb{240, 120, 30}, rgb{165, 170, 180})
	glass := rgb{150, 190, 215}
	dark := scale(body, 0.7)
	a, f := p.at, p.fy
	// Cabin, then windows, then the lower body over their bottom edge.
	p.c.poly([]float64{a(0.1), f(0.46), a(0.22), f(0.04), a(0.6), f(0.04), a(0.8), f(0.46)}, dark, 4)
	p.c.poly([]float64{a(0.19), f(0.44), a(0.26), f(0.12), a(0.43), f(0.12), a(0.43), f(0.44)}, glass, 3)
	p.c.poly([]float64{a(0.47), f(0.44), a(0.47), f(0.12), a(0.58), f(0.12), a(0.72), f(0.44)}, glass, 3)
	p.c.poly([]float64{a(0), f(0.5), a(0.04), f(0.4), a(0.9), f(0.42), a(1), f(0.56), a(1), f(0.8), a(0), f(0.8)}, body, 5)
	p.c.rect(min(a(0.94), a(1)), f(0.5), max(a(0.94), a(1)), f(0.58), rgb{250, 240, 190}, 0) // headlight
	p.c.rect(min(a(0), a(0.04)), f(0.5), max(a(0), a(0.04)), f(0.6), rgb{200, 20, 20}, 0)    // taillight
	r := 0.2 * p.h
	for _, t := range []float64{0.2, 0.8} {
		p.c.circle(a(t), p.y1-r, r, rgb{25, 25, 28}, 0)
		p.c.circle(a(t), p.y1-r, 0.45*r, rgb{170, 170, 175}, 0)
	}
}

func (p *pen) hull() (top float64) {
	col := p.pick(10, rgb{240, 240, 240}, rgb{190, 40, 40}, rgb{140, 90, 50}, rgb{40, 60, 140}, rgb{30, 90, 70})
	stripe := p.pick(5, rgb{30, 40, 90}, rgb{200, 40, 40}, rgb{240, 240, 240}, rgb{230, 190, 40})
	a, f := p.at, p.fy
	top = f(0.62)
	if p.h < 0.7*p.w {
		top = f(0.45)
	}
	p.c.poly([]float64{a(0), top, a(1), top - 0.05*p.h, a(0.82), p.y1, a(0.1), p.y1}, col, 5)
	sw := max(0.05*p.h, 0.7*p.u)
	p.c.poly([]float64{a(0), top, a(1), top - 0.05*p.h, a(0.985), top - 0.05*p.h + sw, a(0.01), top + sw}, stripe, 0)
	return top
}

func (p *pen) sailboat() {
	top := p.hull()
	a, f := p.at, p.fy
	sail := p.pick(6, rgb{250, 250, 245}, rgb{245, 235, 210}, rgb{250, 250, 245}, rgb{220, 60, 50}, rgb{245, 200, 60})
	mw := p.stroke(0.04 * p.w)
	p.c.rect(a(0.47)-mw/2, f(0.01), a(0.47)+mw/2, top, rgb{90, 70, 50}, 0)
	p.c.poly([]float64{a(0.44), f(0.04), a(0.44), top - 0.06*p.h, a(0.06), top - 0.06*p.h}, sail, 3)
	p.c.poly([]float64{a(0.5), f(0.1), a(0.5), top - 0.06*p.h, a(0.88), top - 0.06*p.h}, scale(sail, 0.92), 3)
}

func (p *pen) motorboat() {
	top := p.hull()
	a, f := p.at, p.fy
	cabin := p.pick(6, rgb{245, 245, 245}, rgb{220, 220, 210}, rgb{200, 60, 50})
	p.c.poly([]float64{a(0.2), top, a(0.2), f(0.05), a(0.52), f(0.05), a(0.68), top}, cabin, 3)
	p.c.poly([]float64{a(0.27), f(0.2), a(0.5), f(0.2), a(0.58), f(0.36), a(0.27), f(0.36)}, rgb{60, 80, 110}, 0)
}

func (p *pen) flower() {
	cx := (p.x0 + p.x1) / 2
	green := p.pick(8, rgb{50, 130, 40}, rgb{70, 150, 50}, rgb{40, 110, 45})
	hy := p.fy(0.28)
	sw := p.stroke(0.1 * p.w)
	p.c.rect(cx-sw/2, hy, cx+sw/2, p.y1, green, 0)
	lf := p.fy(uniform(p.r, 0.55, 0.75))
	p.c.poly([]float64{cx, lf + 0.08*p.h, cx - 0.45*p.w, lf - 0.1*p.h, cx - 0.1*p.w, lf + 0.1*p.h}, green, 0)
	p.c.poly([]float64{cx, lf, cx + 0.45*p.w, lf - 0.16*p.h, cx + 0.1*p.w, lf + 0.04*p.h}, green, 0)
	petal := p.pick(10, rgb{225, 35, 50}, rgb{245, 120, 175}, rgb{155, 70, 200}, rgb{250, 250, 250}, rgb{250, 140, 30}, rgb{250, 215, 40}, rgb{80, 110, 235})
	heart := rgb{250, 210, 40}
	if petal[1] > 200 && petal[0] > 240 && petal[2] < 100 { // yellow petals, brown heart
		heart = rgb{120, 70, 30}
	}
	k := 5 + p.r.IntN(2)
	pr := 0.2 * p.w
	ring := 0.5*p.w - pr
	a0 := p.r.Float64() * math.Pi
	for i := 0; i < k; i++ {
		a := a0 + 2*math.Pi*float64(i)/float64(k)
		p.c.circle(cx+math.Cos(a)*ring, hy+math.Sin(a)*ring*0.9, pr, petal, 4)
	}
	p.c.circle(cx, hy, 0.15*p.w, heart, 0)
}
