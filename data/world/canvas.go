package world

import "math"

// rgb is a colour, each channel 0..255.
type rgb [3]float32

// canvas is the drawing surface at the supersampled resolution. Every
// primitive paints the pixels whose centres fall inside its shape, with one
// colour (plus optional luminance noise) and the id of the object being
// drawn, so the id buffer is always the exact visible-object map.
type canvas struct {
	n   int     // side in pixels
	pix []uint8 // RGB, pixel (x, y) at 3*(y*n+x)
	ids []uint8 // object index + 1 per pixel, 0 where nothing is drawn
	// occ[a] has bit b set when object b painted over a pixel of object a
	// (ids are below 32: Options.MaxObjects is at most 30).
	occ  [32]uint32
	cur  uint8  // id being drawn
	seed uint32 // texture noise seed of the scene
	// bb is the box painted by cur since begin: x0, y0, x1, y1 (exclusive).
	bb [4]int
	// probe, when not 0, is an id whose pixels are all painted probeColour
	// (tests check that colour and id buffers agree pixel for pixel).
	probe uint8
}

// probeColour is a colour no look uses.
var probeColour = rgb{255, 0, 255}

func newCanvas(n int) *canvas {
	return &canvas{n: n, pix: make([]uint8, 3*n*n), ids: make([]uint8, n*n)}
}

// reset clears the canvas for a new drawing.
func (c *canvas) reset(seed uint32) {
	clear(c.pix)
	clear(c.ids)
	c.occ = [32]uint32{}
	c.seed = seed
}

// begin starts drawing object id.
func (c *canvas) begin(id uint8) {
	c.cur = id
	c.bb = [4]int{c.n, c.n, 0, 0}
}

// area counts the pixels that object id holds inside the box painted since
// begin; called right after drawing it, that is its whole (unoccluded)
// area.
func (c *canvas) area(id uint8) int {
	k := 0
	for y := c.bb[1]; y < c.bb[3]; y++ {
		for _, v := range c.ids[y*c.n+c.bb[0] : y*c.n+c.bb[2]] {
			if v == id {
				k++
			}
		}
	}
	return k
}

// hash mixes a pixel position and a seed into 32 random bits
// (a murmur3-style finaliser).
func hash(x, y int, seed uint32) uint32 {
	h := uint32(x)*0x27d4eb2d ^ uint32(y)*0x165667b1 ^ seed
	h ^= h >> 15
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// noise is hash as a value in [-1, 1).
func noise(x, y int, seed uint32) float32 {
	return float32(hash(x, y, seed)>>8)*(2.0/(1<<24)) - 1
}

// smoothNoise is value noise in [-1, 1): random values on a grid of cells
// cell pixels apart, blended with a smoothstep.
func smoothNoise(x, y float32, cell float32, seed uint32) float32 {
	fx, fy := x/cell, y/cell
	ix, iy := int(math.Floor(float64(fx))), int(math.Floor(float64(fy)))
	tx, ty := fx-float32(ix), fy-float32(iy)
	tx, ty = tx*tx*(3-2*tx), ty*ty*(3-2*ty)
	a := noise(ix, iy, seed) + (noise(ix+1, iy, seed)-noise(ix, iy, seed))*tx
	b := noise(ix, iy+1, seed) + (noise(ix+1, iy+1, seed)-noise(ix, iy+1, seed))*tx
	return a + (b-a)*ty
}

func clamp8(v float32) uint8 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}

// set paints one pixel (inside the canvas) with cur.
func (c *canvas) set(x, y int, col rgb) {
	i := y*c.n + x
	if old := c.ids[i]; old != c.cur {
		c.occ[old] |= 1 << c.cur
		c.ids[i] = c.cur
	}
	if c.cur == c.probe {
		col = probeColour
	}
	p := c.pix[3*i : 3*i+3 : 3*i+3]
	p[0], p[1], p[2] = clamp8(col[0]), clamp8(col[1]), clamp8(col[2])
}

// span paints pixels x0..x1-1 of row y, clipped to the canvas, adding
// luminance noise of amplitude tex.
func (c *canvas) span(y, x0, x1 int, col rgb, tex float32) {
	if y < 0 || y >= c.n {
		return
	}
	x0, x1 = max(x0, 0), min(x1, c.n)
	if x0 >= x1 {
		return
	}
	c.bb[0], c.bb[1] = min(c.bb[0], x0), min(c.bb[1], y)
	c.bb[2], c.bb[3] = max(c.bb[2], x1), max(c.bb[3], y+1)
	for x := x0; x < x1; x++ {
		if tex == 0 {
			c.set(x, y, col)
			continue
		}
		d := tex * noise(x, y, c.seed)
		c.set(x, y, rgb{col[0] + d, col[1] + d, col[2] + d})
	}
}

// cover returns the pixel range [x0, x1) whose centres lie in [a, b).
func cover(a, b float64) (int, int) {
	return int(math.Ceil(a - 0.5)), int(math.Ceil(b - 0.5))
}

// rect fills the axis-aligned rectangle [x0, x1) x [y0, y1) (pixels).
func (c *canvas) rect(x0, y0, x1, y1 float64, col rgb, tex float32) {
	ya, yb := cover(y0, y1)
	xa, xb := cover(x0, x1)
	for y := ya; y < yb; y++ {
		c.span(y, xa, xb, col, tex)
	}
}

// ellipse fills the axis-aligned ellipse centred at (cx, cy) with radii
// rx, ry (pixels).
func (c *canvas) ellipse(cx, cy, rx, ry float64, col rgb, tex float32) {
	if rx <= 0 || ry <= 0 {
		return
	}
	ya, yb := cover(cy-ry, cy+ry)
	for y := ya; y < yb; y++ {
		dy := (float64(y) + 0.5 - cy) / ry
		if dy*dy >= 1 {
			continue
		}
		hw := rx * math.Sqrt(1-dy*dy)
		xa, xb := cover(cx-hw, cx+hw)
		c.span(y, xa, xb, col, tex)
	}
}

// circle fills a disc.
func (c *canvas) circle(cx, cy, r float64, col rgb, tex float32) {
	c.ellipse(cx, cy, r, r, col, tex)
}

// poly fills a polygon (x, y pairs, pixels) with the even-odd rule.
func (c *canvas) poly(pts []float64, col rgb, tex float32) {
	n := len(pts) / 2
	if n < 3 {
		return
	}
	ymin, ymax := pts[1], pts[1]
	for i := 1; i < n; i++ {
		ymin, ymax = min(ymin, pts[2*i+1]), max(ymax, pts[2*i+1])
	}
	ya, yb := cover(ymin, ymax)
	var xs [16]float64
	for y := ya; y < yb; y++ {
		yc := float64(y) + 0.5
		cross := xs[:0]
		for i := 0; i < n; i++ {
			j := (i + 1) % n
			x0, y0, x1, y1 := pts[2*i], pts[2*i+1], pts[2*j], pts[2*j+1]
			if (y0 <= yc) != (y1 <= yc) {
				cross = append(cross, x0+(yc-y0)*(x1-x0)/(y1-y0))
			}
		}
		// Insertion sort: a handful of crossings.
		for i := 1; i < len(cross); i++ {
			for k := i; k > 0 && cross[k] < cross[k-1]; k-- {
				cross[k], cross[k-1] = cross[k-1], cross[k]
			}
		}
		for i := 0; i+1 < len(cross); i += 2 {
			xa, xb := cover(cross[i], cross[i+1])
			c.span(y, xa, xb, col, tex)
		}
	}
}

// line fills a segment of width w with round ends (a capsule).
func (c *canvas) line(x0, y0, x1, y1, w float64, col rgb) {
	r := w / 2
	dx, dy := x1-x0, y1-y0
	l2 := dx*dx + dy*dy
	ya, yb := cover(min(y0, y1)-r, max(y0, y1)+r)
	xa, xb := cover(min(x0, x1)-r, max(x0, x1)+r)
	for y := ya; y < yb; y++ {
		if y < 0 || y >= c.n {
			continue
		}
		py := float64(y) + 0.5
		run := -1
		for x := xa; x <= xb; x++ {
			in := false
			if x < xb {
				px := float64(x) + 0.5
				t := 0.0
				if l2 > 0 {
					t = min(max(((px-x0)*dx+(py-y0)*dy)/l2, 0), 1)
				}
				ex, ey := px-x0-t*dx, py-y0-t*dy
				in = ex*ex+ey*ey < r*r
			}
			if in && run < 0 {
				run = x
			} else if !in && run >= 0 {
				c.span(y, run, x, col, 0)
				run = -1
			}
		}
	}
}

// downsample box-filters the canvas by factor f into pix (RGB) and gives
// each output pixel the id that covers most of its f x f block, ties going
// to the higher rank (the nearer object).
func (c *canvas) downsample(pix, ids []uint8, f int, rank []int) {
	m := c.n / f
	ff := f * f
	var block [64]uint8
	for oy := 0; oy < m; oy++ {
		for ox := 0; ox < m; ox++ {
			var sr, sg, sb int
			k := 0
			for dy := 0; dy < f; dy++ {
				i := (oy*f+dy)*c.n + ox*f
				for dx := 0; dx < f; dx++ {
					p := c.pix[3*(i+dx):]
					sr, sg, sb = sr+int(p[0]), sg+int(p[1]), sb+int(p[2])
					block[k] = c.ids[i+dx]
					k++
				}
			}
			o := oy*m + ox
			pix[3*o] = uint8((sr + ff/2) / ff)
			pix[3*o+1] = uint8((sg + ff/2) / ff)
			pix[3*o+2] = uint8((sb + ff/2) / ff)
			ids[o] = plurality(block[:ff], rank)
		}
	}
}

// plurality is the most frequent id of a block, ties to the higher rank.
func plurality(block []uint8, rank []int) uint8 {
	first := block[0]
	same := true
	for _, v := range block[1:] {
		if v != first {
			same = false
			break
		}
	}
	if same {
		return first
	}
	best, bestN := first, 0
	for i, v := range block {
		if i > 0 && v == block[i-1] {
			continue // counted with the run it belongs to
		}
		n := 0
		for _, u := range block {
			if u == v {
				n++
			}
		}
		if n > bestN || (n == bestN && rank[v] > rank[best]) {
			best, bestN = v, n
		}
	}
	return best
}
