package world

import "math"

// stuffPainter holds what painting the stuff needs per column, row and
// 4 x 4 block.
type stuffPainter struct {
	l       *layout
	n       int
	fn, hy  float64
	u       float32     // canvas pixels to 256-canvas pixels
	ridge   []float64   // skyline y per column, pixels
	apex    []int       // peak owning the skyline per column
	tops    [][]float64 // band top edges per column, pixels
	nb      int         // blocks a side
	med     []float32   // slow textures per block
	coarse  []float32
	skyRows []rgb // sky colour per row
}

// drawStuff paints every pixel with the stuff the layout puts there, ids
// from stuffID (category -> object id + 1). Colours are computed once per
// 2 x 2 quad whose pixels share a category (per pixel on the edges), which
// halves the cost without blurring any edge: ids are always per pixel.
func (c *canvas) drawStuff(l *layout, stuffID *[numCategories]uint8) {
	n := c.n
	sp := &stuffPainter{l: l, n: n, fn: float64(n), hy: l.horizon * float64(n), u: float32(256) / float32(n)}
	sp.ridge, sp.apex = make([]float64, n), make([]int, n)
	sp.tops = make([][]float64, len(l.bands))
	for b := range sp.tops {
		sp.tops[b] = make([]float64, n)
	}
	for x := 0; x < n; x++ {
		xn := (float64(x) + 0.5) / sp.fn
		r, a := l.ridgeAt(xn)
		sp.ridge[x], sp.apex[x] = r*sp.fn, a
		for b, bd := range l.bands {
			sp.tops[b][x] = bd.topAt(xn) * sp.fn
		}
	}
	// Slow textures are sampled once a 4 x 4 block: a medium one (cells 16
	// pixels of the 256-canvas) and a coarse one (cells 45).
	sp.nb = (n + 3) / 4
	sp.med, sp.coarse = make([]float32, sp.nb*sp.nb), make([]float32, sp.nb*sp.nb)
	for by := 0; by < sp.nb; by++ {
		for bx := 0; bx < sp.nb; bx++ {
			fx, fy := float32(4*bx+2)*sp.u, float32(4*by+2)*sp.u
			sp.med[by*sp.nb+bx] = smoothNoise(fx, fy, 16, l.seed^0x9a5)
			sp.coarse[by*sp.nb+bx] = smoothNoise(fx, fy, 45, l.seed^0x5a0)
		}
	}
	sp.skyRows = make([]rgb, n)
	for y := range sp.skyRows {
		t := float32((float64(y) + 0.5) / sp.fn / l.horizon)
		sp.skyRows[y] = mix(l.pal.skyTop, l.pal.skyBottom, t*t*0.6+t*0.4)
	}
	for y := 0; y+1 < n; y += 2 {
		for x := 0; x+1 < n; x += 2 {
			c00, b00 := sp.category(x, y)
			c10, b10 := sp.category(x+1, y)
			c01, b01 := sp.category(x, y+1)
			c11, b11 := sp.category(x+1, y+1)
			if c00 == c10 && c00 == c01 && c00 == c11 && b00 == b10 && b00 == b01 && b00 == b11 {
				col := sp.colour(c00, b00, x, y)
				id := stuffID[c00]
				c.setStuff(x, y, id, col)
				c.setStuff(x+1, y, id, col)
				c.setStuff(x, y+1, id, col)
				c.setStuff(x+1, y+1, id, col)
				continue
			}
			c.setStuff(x, y, stuffID[c00], sp.colour(c00, b00, x, y))
			c.setStuff(x+1, y, stuffID[c10], sp.colour(c10, b10, x+1, y))
			c.setStuff(x, y+1, stuffID[c01], sp.colour(c01, b01, x, y+1))
			c.setStuff(x+1, y+1, stuffID[c11], sp.colour(c11, b11, x+1, y+1))
		}
	}
}

// category is the stuff at pixel (x, y) and its ground band (-1 above the
// horizon).
func (sp *stuffPainter) category(x, y int) (cat, band int) {
	yc := float64(y) + 0.5
	switch {
	case yc < sp.hy && yc < sp.ridge[x]:
		return sky, -1
	case yc < sp.hy:
		return mountain, -1
	}
	b := 0
	for i := 1; i < len(sp.tops); i++ {
		if yc >= sp.tops[i][x] {
			b = i
		}
	}
	return sp.l.bands[b].cat, b
}

// colour shades pixel (x, y) of stuff cat (ground band b).
func (sp *stuffPainter) colour(cat, b, x, y int) rgb {
	l, p := sp.l, &sp.l.pal
	yc := float64(y) + 0.5
	blk := (y/4)*sp.nb + x/4
	switch cat {
	case sky:
		return sp.skyRows[y]
	case mountain:
		pk := l.peaks[sp.apex[x]]
		col := p.rock
		xn := (float64(x) + 0.5) / sp.fn
		if xn < pk.x { // the lit flank
			col = scale(col, 1.18)
		} else {
			col = scale(col, 0.86)
		}
		// Snow on the top 35% of each peak's height, with a ragged lower
		// edge.
		capLine := pk.y + 0.35*(l.horizon-pk.y) + 0.03*float64(sp.med[blk])
		if l.caps && yc/sp.fn < capLine {
			col = rgb{240, 242, 248}
			if xn >= pk.x {
				col = rgb{205, 212, 228}
			}
		}
		// Haze towards the horizon line.
		col = mix(col, p.skyBottom, 0.25+0.2*float32((yc/sp.fn-pk.y)/(l.horizon-pk.y+1e-9)))
		d := 6 * sp.med[blk]
		return rgb{col[0] + d, col[1] + d, col[2] + d}
	}
	// s is the depth: 0 at the horizon, 1 at the bottom.
	s := float32((yc/sp.fn - l.horizon) / (1 - l.horizon))
	top := float32(sp.tops[b][x]) * sp.u
	bottom, below := float32(256), b+1 < len(sp.tops)
	if below {
		bottom = float32(sp.tops[b+1][x]) * sp.u
	}
	col := groundColour(l, cat, s, float32(x)*sp.u, float32(y)*sp.u, top, bottom, below, sp.med[blk], sp.coarse[blk])
	return mix(col, p.skyBottom, 0.3*(1-s)*(1-s))
}

// setStuff paints one pixel of the first layer.
func (c *canvas) setStuff(x, y int, id uint8, col rgb) {
	i := y*c.n + x
	c.ids[i] = id
	if id == c.probe {
		col = probeColour
	}
	c.pix[3*i], c.pix[3*i+1], c.pix[3*i+2] = clamp8(col[0]), clamp8(col[1]), clamp8(col[2])
}

// groundColour shades a pixel of a ground band of category cat at depth s
// (0 at the horizon, 1 at the bottom); fx, fy, and the band's top and
// bottom edges are in 256-canvas pixels; below tells whether another band
// follows; med and coarse are the slow textures there.
func groundColour(l *layout, cat int, s, fx, fy, top, bottom float32, below bool, med, coarse float32) rgb {
	p := &l.pal
	seed := l.seed
	fine := noise(int(fx), int(fy), seed)
	switch cat {
	case grass:
		col := scale(p.grass, 1+0.12*med)
		// Blades: streaks three times taller than wide.
		d := 10*fine + 9*noise(int(fx), int(fy/3), seed^0x77)
		return rgb{col[0] + d, col[1] + d*1.2, col[2] + d*0.6}
	case snow:
		// Blue shadows in the drifts, sparkle.
		sh := 14*coarse + 6*med
		d := 5 * fine
		return rgb{p.snw[0] + sh*1.4 + d, p.snw[1] + sh + d, p.snw[2] + d}
	case sand:
		rip := 5 * float32(math.Sin(float64(fy)*0.45+3*float64(coarse)))
		d := 9*fine + rip + 5*med
		return rgb{p.sand[0] + d, p.sand[1] + d, p.sand[2] + d*0.8}
	case sea:
		col := scale(p.sea, 0.85+0.3*s)
		// Wave crests: short light dashes along rows, longer when near.
		row := int(fy / 3)
		dash := 6 + 24*s
		k := int((fx + float32(hash(row, 1, seed)%64)) / dash)
		if hash(k, row, seed^0xabc)%7 == 0 {
			col = mix(col, rgb{220, 235, 245}, 0.45)
		}
		d := 4 * fine
		return rgb{col[0] + d, col[1] + d, col[2] + d}
	case road:
		col := p.road
		d := 7*fine + 4*med
		col = rgb{col[0] + d, col[1] + d, col[2] + d}
		edge := 1.5 + 2*s // marking half-width, 256-canvas pixels
		mid := (top + bottom) / 2
		switch {
		case fy-top < edge*1.3 || (below && bottom-fy < edge*1.3):
			col = mix(col, rgb{180, 180, 175}, 0.8)
		case abs32(fy-mid) < edge && int((fx+float32(seed%97))/(20+20*s))%2 == 0:
			col = p.line
		}
		return col
	}
	return rgb{255, 0, 255}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// mix blends a towards b by t in [0, 1].
func mix(a, b rgb, t float32) rgb {
	return rgb{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t, a[2] + (b[2]-a[2])*t}
}

// scale multiplies a colour's channels by f.
func scale(a rgb, f float32) rgb { return rgb{a[0] * f, a[1] * f, a[2] * f} }
