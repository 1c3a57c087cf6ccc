package nn

import "fmt"

// UpsampleNearest repeats every pixel of x (N, C, H, W) into a
// scale x scale block.
func UpsampleNearest(x *Tensor, scale int) *Tensor {
	mustRank("UpsampleNearest", x, 4)
	if scale < 1 {
		panic("nn: UpsampleNearest: scale < 1")
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := h*scale, w*scale
	y := New(n, c, oh, ow)
	parallelFor(n*c, oh*ow, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			src := x.Data[p*h*w:][:h*w]
			dst := y.Data[p*oh*ow:][:oh*ow]
			for oy := 0; oy < oh; oy++ {
				in := src[(oy/scale)*w:][:w]
				out := dst[oy*ow:][:ow]
				for ox := range out {
					out[ox] = in[ox/scale]
				}
			}
		}
	})
	return y
}

// AvgPool2d averages x (N, C, H, W) over non-overlapping k x k windows
// (kernel = stride = k); H and W must be multiples of k.
func AvgPool2d(x *Tensor, k int) *Tensor {
	mustRank("AvgPool2d", x, 4)
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	if k < 1 || h%k != 0 || w%k != 0 {
		panic(fmt.Sprintf("nn: AvgPool2d: kernel %d for input %v", k, x.Shape))
	}
	y := New(n, c, h/k, w/k)
	t := 1
	if len(x.Data) >= minParallelCopy {
		t = Threads()
	}
	parallel(t, n*c, func(lo, hi int) { avgPoolPlanes(y.Data, x.Data, lo, hi, h, w, k) })
	return y
}

// avgPoolPlanes pools planes [lo, hi) of src into dst. Each window is
// summed row by row, left to right, in float32, as PyTorch does. Summing
// each window's row in one inner loop measured twice as fast, natively
// and compiled to WebAssembly, as stepping across the windows column by
// column.
func avgPoolPlanes(dst, src []float32, lo, hi, h, w, k int) {
	if k == 2 {
		avgPool2Planes(dst, src, lo, hi, h, w)
		return
	}
	oh, ow := h/k, w/k
	area := float32(k * k)
	sums := make([]float32, ow)
	for p := lo; p < hi; p++ {
		in := src[p*h*w:][:h*w]
		out := dst[p*oh*ow:][:oh*ow]
		for oy := 0; oy < oh; oy++ {
			clear(sums)
			for ky := 0; ky < k; ky++ {
				addWindowRows(sums, in[(oy*k+ky)*w:][:ow*k], k)
			}
			o := out[oy*ow:][:ow]
			for ox, s := range sums {
				o[ox] = s / area
			}
		}
	}
}

// addWindowRows adds to sums[ox] the k values of window ox in row, left
// to right. Four windows at a time, each its own chain of additions: one
// window's chain alone waited on every addition (~1 ns a value).
func addWindowRows(sums, row []float32, k int) {
	ox := 0
	for ; ox+4 <= len(sums); ox += 4 {
		s0, s1, s2, s3 := sums[ox], sums[ox+1], sums[ox+2], sums[ox+3]
		r := row[ox*k : (ox+4)*k]
		r0, r1, r2, r3 := r[:k], r[k:2*k], r[2*k:3*k], r[3*k:4*k]
		for kx := range r0 {
			s0 += r0[kx]
			s1 += r1[kx]
			s2 += r2[kx]
			s3 += r3[kx]
		}
		sums[ox], sums[ox+1], sums[ox+2], sums[ox+3] = s0, s1, s2, s3
	}
	for ; ox < len(sums); ox++ {
		s := sums[ox]
		for _, v := range row[ox*k : ox*k+k] {
			s += v
		}
		sums[ox] = s
	}
}

// avgPool2Planes is avgPoolPlanes for 2x2 windows, each summed in the
// same order in one expression: the general loop spent most of its time
// stepping through windows of two values (the CRN pools its 128 x 128
// layout by 2, 4, 8 and 16; the 2s cost as much as the rest together).
func avgPool2Planes(dst, src []float32, lo, hi, h, w int) {
	oh, ow := h/2, w/2
	for p := lo; p < hi; p++ {
		in := src[p*h*w:][:h*w]
		out := dst[p*oh*ow:][:oh*ow]
		for oy := 0; oy < oh; oy++ {
			r0 := in[2*oy*w:][:2*ow]
			r1 := in[(2*oy+1)*w:][:2*ow]
			o := out[oy*ow:][:ow]
			for ox := range o {
				o[ox] = (0 + r0[2*ox] + r0[2*ox+1] + r1[2*ox] + r1[2*ox+1]) / 4 // 0 + first: -0s sum to +0 as in the loop
			}
		}
	}
}

// UpsampleNearest on a tape: the gradient of a pixel sums its block.
func (tp *Tape) UpsampleNearest(x *Var, scale int) *Var {
	y := UpsampleNearest(x.Value, scale)
	return tp.result(y, func(g *Tensor) {
		n, c, h, w := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2], x.Value.Shape[3]
		oh, ow := h*scale, w*scale
		dx := x.grad().Data
		parallelFor(n*c, 2*oh*ow, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				src := g.Data[p*oh*ow:][:oh*ow]
				dst := dx[p*h*w:][:h*w]
				for oy := 0; oy < oh; oy++ {
					row := dst[(oy/scale)*w:][:w]
					for ox, v := range src[oy*ow : (oy+1)*ow] {
						row[ox/scale] += v
					}
				}
			}
		})
	}, x)
}

// AvgPool2d on a tape: each input pixel gets its window's gradient / k².
func (tp *Tape) AvgPool2d(x *Var, k int) *Var {
	y := AvgPool2d(x.Value, k)
	return tp.result(y, func(g *Tensor) {
		n, c, h, w := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2], x.Value.Shape[3]
		oh, ow := h/k, w/k
		area := float32(k * k)
		dx := x.grad().Data
		parallelFor(n*c, 2*h*w, func(lo, hi int) {
			share := make([]float32, ow) // one row of g / area
			for p := lo; p < hi; p++ {
				src := g.Data[p*oh*ow:][:oh*ow]
				dst := dx[p*h*w:][:h*w]
				for oy := 0; oy < oh; oy++ {
					for ox, v := range src[oy*ow:][:ow] {
						share[ox] = v / area
					}
					for iy := oy * k; iy < (oy+1)*k; iy++ {
						spreadRow(dst[iy*w:][:ow*k], share, k)
					}
				}
			}
		})
	}, x)
}

// spreadRow adds share[i] to row[i*k : (i+1)*k] for each i; k = 2 (every
// pooling of the networks) has its own loop.
func spreadRow(row, share []float32, k int) {
	if k == 2 {
		row = row[:2*len(share)]
		for i, v := range share {
			r := row[2*i:][:2]
			r[0] += v
			r[1] += v
		}
		return
	}
	for i, v := range share {
		for j := range row[i*k:][:k] {
			row[i*k+j] += v
		}
	}
}

// GlobalAvgPool averages each (n, c) plane of x (N, C, H, W) into (N, C).
func (tp *Tape) GlobalAvgPool(x *Var) *Var {
	mustRank("GlobalAvgPool", x.Value, 4)
	n, c, plane := channels("GlobalAvgPool", x.Value)
	y := New(n, c)
	for i := range y.Data {
		var s float32
		for _, v := range x.Value.Data[i*plane : (i+1)*plane] {
			s += v
		}
		y.Data[i] = s / float32(plane)
	}
	return tp.result(y, func(g *Tensor) {
		dx := x.grad().Data
		for i, gv := range g.Data {
			d := gv / float32(plane)
			for j := i * plane; j < (i+1)*plane; j++ {
				dx[j] += d
			}
		}
	}, x)
}
