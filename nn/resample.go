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
	for p := 0; p < n*c; p++ {
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
	oh, ow := h/k, w/k
	y := New(n, c, oh, ow)
	area := float32(k * k)
	for p := 0; p < n*c; p++ {
		src := x.Data[p*h*w:][:h*w]
		dst := y.Data[p*oh*ow:][:oh*ow]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				var sum float32
				for ky := 0; ky < k; ky++ {
					row := src[(oy*k+ky)*w+ox*k:][:k]
					for _, v := range row {
						sum += v
					}
				}
				dst[oy*ow+ox] = sum / area
			}
		}
	}
	return y
}

// UpsampleNearest on a tape: the gradient of a pixel sums its block.
func (tp *Tape) UpsampleNearest(x *Var, scale int) *Var {
	y := UpsampleNearest(x.Value, scale)
	return tp.result(y, func(g *Tensor) {
		n, c, h, w := x.Value.Shape[0], x.Value.Shape[1], x.Value.Shape[2], x.Value.Shape[3]
		oh, ow := h*scale, w*scale
		dx := x.grad().Data
		for p := 0; p < n*c; p++ {
			src := g.Data[p*oh*ow:][:oh*ow]
			dst := dx[p*h*w:][:h*w]
			for oy := 0; oy < oh; oy++ {
				row := dst[(oy/scale)*w:][:w]
				for ox, v := range src[oy*ow : (oy+1)*ow] {
					row[ox/scale] += v
				}
			}
		}
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
		for p := 0; p < n*c; p++ {
			src := g.Data[p*oh*ow:][:oh*ow]
			dst := dx[p*h*w:][:h*w]
			for iy := 0; iy < h; iy++ {
				for ix := 0; ix < w; ix++ {
					dst[iy*w+ix] += src[(iy/k)*ow+ix/k] / area
				}
			}
		}
	}, x)
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
