package nn

import "fmt"

// ConvShape describes a 2-D convolution of a batch of images.
type ConvShape struct {
	N, C, H, W  int // input
	F, KH, KW   int // filters and kernel size
	Stride, Pad int
	OutH, OutW  int // derived by NewConvShape
}

// NewConvShape derives the output size of convolving x (N, C, H, W) with
// filters w (F, C, KH, KW).
func NewConvShape(x, w *Tensor, stride, pad int) ConvShape {
	mustRank("Conv2d input", x, 4)
	mustRank("Conv2d weight", w, 4)
	if w.Shape[1] != x.Shape[1] || stride < 1 || pad < 0 {
		panic(fmt.Sprintf("nn: Conv2d: input %v, weight %v, stride %d, pad %d", x.Shape, w.Shape, stride, pad))
	}
	s := ConvShape{N: x.Shape[0], C: x.Shape[1], H: x.Shape[2], W: x.Shape[3],
		F: w.Shape[0], KH: w.Shape[2], KW: w.Shape[3], Stride: stride, Pad: pad}
	s.OutH = (s.H+2*pad-s.KH)/stride + 1
	s.OutW = (s.W+2*pad-s.KW)/stride + 1
	if s.OutH < 1 || s.OutW < 1 {
		panic(fmt.Sprintf("nn: Conv2d: kernel %dx%d larger than padded input %v", s.KH, s.KW, x.Shape))
	}
	return s
}

// direct reports whether the input is already its own column matrix
// (a 1x1 kernel with stride 1 and no padding).
func (s ConvShape) direct() bool {
	return s.KH == 1 && s.KW == 1 && s.Stride == 1 && s.Pad == 0
}

// ColSize is the length of the im2col buffer for one image.
func (s ConvShape) ColSize() int { return s.C * s.KH * s.KW * s.OutH * s.OutW }

// Conv2d convolves x (N, C, H, W) with w (F, C, KH, KW) and adds b (F) or
// nil, with zero padding pad on every side.
func Conv2d(x, w, b *Tensor, stride, pad int) *Tensor {
	s := NewConvShape(x, w, stride, pad)
	if b != nil && b.Numel() != s.F {
		panic(fmt.Sprintf("nn: Conv2d: bias %v for %d filters", b.Shape, s.F))
	}
	y := New(s.N, s.F, s.OutH, s.OutW)
	var col []float32
	if !s.direct() {
		col = make([]float32, s.ColSize())
	}
	Conv2dForward(y.Data, x.Data, w.Data, biasData(b), col, s)
	return y
}

// Conv2dForward writes the convolution into dst (N, F, OutH, OutW). col is
// scratch of s.ColSize() values, unused for 1x1 stride-1 unpadded kernels.
func Conv2dForward(dst, x, w, bias, col []float32, s ConvShape) {
	inSize, outSize := s.C*s.H*s.W, s.OutH*s.OutW
	k := s.C * s.KH * s.KW
	for n := 0; n < s.N; n++ {
		xn := x[n*inSize : (n+1)*inSize]
		yn := dst[n*s.F*outSize : (n+1)*s.F*outSize]
		src := xn
		if !s.direct() {
			Im2col(col, xn, s)
			src = col
		}
		beta := float32(0)
		if bias != nil {
			for f := 0; f < s.F; f++ {
				row := yn[f*outSize : (f+1)*outSize]
				for i := range row {
					row[i] = bias[f]
				}
			}
			beta = 1
		}
		Gemm(false, false, s.F, outSize, k, 1, w, k, src, outSize, beta, yn, outSize)
	}
}

// Im2col lays out the receptive fields of one image x (C, H, W) as the
// columns of dst (C*KH*KW, OutH*OutW), zeros where they cross the padding.
func Im2col(dst, x []float32, s ConvShape) {
	outSize := s.OutH * s.OutW
	for c := 0; c < s.C; c++ {
		plane := x[c*s.H*s.W : (c+1)*s.H*s.W]
		for ky := 0; ky < s.KH; ky++ {
			for kx := 0; kx < s.KW; kx++ {
				row := dst[((c*s.KH+ky)*s.KW+kx)*outSize:][:outSize]
				for oy := 0; oy < s.OutH; oy++ {
					iy := oy*s.Stride - s.Pad + ky
					out := row[oy*s.OutW : (oy+1)*s.OutW]
					if iy < 0 || iy >= s.H {
						clear(out)
						continue
					}
					in := plane[iy*s.W : (iy+1)*s.W]
					for ox := range out {
						ix := ox*s.Stride - s.Pad + kx
						if ix >= 0 && ix < s.W {
							out[ox] = in[ix]
						} else {
							out[ox] = 0
						}
					}
				}
			}
		}
	}
}
