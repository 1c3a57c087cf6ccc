package nn

import "fmt"

// Conv2d on a tape; b may be nil.
func (tp *Tape) Conv2d(x, w, b *Var, stride, pad int) *Var {
	var bt *Tensor
	if b != nil {
		bt = b.Value
	}
	y := Conv2d(x.Value, w.Value, bt, stride, pad)
	s := NewConvShape(x.Value, w.Value, stride, pad)
	return tp.result(y, func(g *Tensor) {
		Conv2dBackward(x, w, b, g, s)
	}, x, w, b)
}

// Conv2dBackward accumulates the gradients of a convolution: for each image,
// dW += dY col^T, db += sum dY, and dX += col2im(W^T dY).
func Conv2dBackward(x, w, b *Var, g *Tensor, s ConvShape) {
	if !nn4(g, s) {
		panic(fmt.Sprintf("nn: Conv2dBackward: gradient %v for %+v", g.Shape, s))
	}
	outSize := s.OutH * s.OutW
	k := s.C * s.KH * s.KW
	inSize := s.C * s.H * s.W
	col := make([]float32, k*outSize)
	for n := 0; n < s.N; n++ {
		gn := g.Data[n*s.F*outSize : (n+1)*s.F*outSize]
		if w.needsGrad {
			xn := x.Value.Data[n*inSize : (n+1)*inSize]
			Im2col(col, xn, s)
			Gemm(false, true, s.F, k, outSize, 1, gn, outSize, col, outSize, 1, w.grad().Data, k)
		}
		if b != nil && b.needsGrad {
			db := b.grad().Data
			for f := 0; f < s.F; f++ {
				var sum float32
				for _, v := range gn[f*outSize : (f+1)*outSize] {
					sum += v
				}
				db[f] += sum
			}
		}
		if x.needsGrad {
			Gemm(true, false, k, outSize, s.F, 1, w.Value.Data, k, gn, outSize, 0, col, outSize)
			col2im(x.grad().Data[n*inSize:(n+1)*inSize], col, s)
		}
	}
}

func nn4(g *Tensor, s ConvShape) bool {
	return SameShape(g.Shape, []int{s.N, s.F, s.OutH, s.OutW})
}

// col2im adds the columns of col (C*KH*KW, OutH*OutW) back onto the image
// dst (C, H, W): the adjoint of Im2col.
func col2im(dst, col []float32, s ConvShape) {
	outSize := s.OutH * s.OutW
	for c := 0; c < s.C; c++ {
		plane := dst[c*s.H*s.W : (c+1)*s.H*s.W]
		for ky := 0; ky < s.KH; ky++ {
			for kx := 0; kx < s.KW; kx++ {
				row := col[((c*s.KH+ky)*s.KW+kx)*outSize:][:outSize]
				for oy := 0; oy < s.OutH; oy++ {
					iy := oy*s.Stride - s.Pad + ky
					if iy < 0 || iy >= s.H {
						continue
					}
					in := plane[iy*s.W : (iy+1)*s.W]
					for ox, v := range row[oy*s.OutW : (oy+1)*s.OutW] {
						if ix := ox*s.Stride - s.Pad + kx; ix >= 0 && ix < s.W {
							in[ix] += v
						}
					}
				}
			}
		}
	}
}
