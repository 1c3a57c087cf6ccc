package nn

import (
	"fmt"
	"math"
)

// GridSample samples x (N, C, Hs, Ws) at the points of grid (N, H, W, 2)
// bilinearly, giving (N, C, H, W). Grid points are (x, y) in [-1, 1], with
// -1 and 1 the centres of the corner pixels (align_corners = True); samples
// outside x read zeros.
func GridSample(x, grid *Tensor) *Tensor {
	mustRank("GridSample input", x, 4)
	mustRank("GridSample grid", grid, 4)
	n, c := x.Shape[0], x.Shape[1]
	if grid.Shape[0] != n || grid.Shape[3] != 2 {
		panic(fmt.Sprintf("nn: GridSample: input %v, grid %v", x.Shape, grid.Shape))
	}
	h, w := grid.Shape[1], grid.Shape[2]
	y := New(n, c, h, w)
	parallelFor(n, (2+4*c)*h*w, func(lo, hi int) { gridSampleImages(y, x, grid, lo, hi) })
	return y
}

// gridSampleImages is GridSample for images [lo, hi) of the batch.
func gridSampleImages(y, x, grid *Tensor, lo, hi int) {
	c, hs, ws := x.Shape[1], x.Shape[2], x.Shape[3]
	h, w := grid.Shape[1], grid.Shape[2]
	for b := lo; b < hi; b++ {
		g := grid.Data[b*h*w*2:][:h*w*2]
		src := x.Data[b*c*hs*ws:][:c*hs*ws]
		dst := y.Data[b*c*h*w:][:c*h*w]
		for p := 0; p < h*w; p++ {
			t := bilinearTaps(g[2*p], g[2*p+1], hs, ws)
			for ch := 0; ch < c; ch++ {
				dst[ch*h*w+p] = t.sample(src[ch*hs*ws:][:hs*ws])
			}
		}
	}
}

// taps are the four neighbours of a sample point and their weights; an
// index of -1 marks a neighbour outside the source.
type taps struct {
	idx [4]int
	wt  [4]float32
}

func (t *taps) sample(plane []float32) float32 {
	var v float32
	for k, i := range t.idx {
		if i >= 0 {
			v += plane[i] * t.wt[k]
		}
	}
	return v
}

// bilinearTaps maps grid point (gx, gy) onto a hs x ws source.
func bilinearTaps(gx, gy float32, hs, ws int) taps {
	t := taps{idx: [4]int{-1, -1, -1, -1}}
	ix := (gx + 1) / 2 * float32(ws-1)
	iy := (gy + 1) / 2 * float32(hs-1)
	// Far outside points (and NaN) read nothing; the bound also keeps the
	// float to int conversion in range.
	if !(ix > -2 && ix < float32(ws+1) && iy > -2 && iy < float32(hs+1)) {
		return t
	}
	x0 := float32(math.Floor(float64(ix)))
	y0 := float32(math.Floor(float64(iy)))
	x1, y1 := x0+1, y0+1
	t.wt = [4]float32{
		(x1 - ix) * (y1 - iy), // north-west
		(ix - x0) * (y1 - iy), // north-east
		(x1 - ix) * (iy - y0), // south-west
		(ix - x0) * (iy - y0), // south-east
	}
	xs := [4]int{int(x0), int(x1), int(x0), int(x1)}
	ys := [4]int{int(y0), int(y0), int(y1), int(y1)}
	for k := range xs {
		if xs[k] >= 0 && xs[k] < ws && ys[k] >= 0 && ys[k] < hs {
			t.idx[k] = ys[k]*ws + xs[k]
		}
	}
	return t
}

// GridSample on a tape; the grid is data (boxes), so only x gets a
// gradient: each output's gradient flows to its four taps by their weights.
func (tp *Tape) GridSample(x *Var, grid *Tensor) *Var {
	y := GridSample(x.Value, grid)
	return tp.result(y, func(g *Tensor) {
		n, c, hs, ws := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2], x.Value.Shape[3]
		h, w := grid.Shape[1], grid.Shape[2]
		dx := x.grad().Data
		// Samples are independent: each adds only to its own planes.
		parallelFor(n, (2+5*c)*h*w, func(lo, hi int) {
			for b := lo; b < hi; b++ {
				gr := grid.Data[b*h*w*2:][:h*w*2]
				for p := 0; p < h*w; p++ {
					t := bilinearTaps(gr[2*p], gr[2*p+1], hs, ws)
					for ch := 0; ch < c; ch++ {
						gv := g.Data[(b*c+ch)*h*w+p]
						plane := dx[(b*c+ch)*hs*ws:][:hs*ws]
						for k, i := range t.idx {
							if i >= 0 {
								plane[i] += gv * t.wt[k]
							}
						}
					}
				}
			}
		})
	}, x)
}
