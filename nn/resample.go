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
