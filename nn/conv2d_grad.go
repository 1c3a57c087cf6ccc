package nn

import (
	"fmt"
	"sync"
)

// Conv2d on a tape; b may be nil.
func (tp *Tape) Conv2d(x, w, b *Var, stride, pad int) *Var {
	var bt *Tensor
	if b != nil {
		bt = b.Value
	}
	// Weights on a tape are being trained: their Winograd transforms are
	// not kept for a next call that would find them changed.
	y := conv2d(x.Value, w.Value, bt, stride, pad, false)
	s := NewConvShape(x.Value, w.Value, stride, pad)
	return tp.result(y, func(g *Tensor) {
		Conv2dBackward(x, w, b, g, s)
	}, x, w, b)
}

// Conv2dBackward accumulates the gradients of a convolution: dW += dY col^T
// over the batch, db += sum dY, and dX += the adjoint of the convolution
// applied to dY.
func Conv2dBackward(x, w, b *Var, g *Tensor, s ConvShape) {
	if !nn4(g, s) {
		panic(fmt.Sprintf("nn: Conv2dBackward: gradient %v for %+v", g.Shape, s))
	}
	outSize := s.OutH * s.OutW
	if b != nil && b.needsGrad {
		db := b.grad().Data
		for n := 0; n < s.N; n++ {
			gn := g.Data[n*s.F*outSize : (n+1)*s.F*outSize]
			for f := 0; f < s.F; f++ {
				var sum float32
				for _, v := range gn[f*outSize : (f+1)*outSize] {
					sum += v
				}
				db[f] += sum
			}
		}
	}
	if w.needsGrad {
		convWeightGrad(w.grad().Data, x.Value.Data, g.Data, s)
	}
	if x.needsGrad {
		fresh := x.Grad == nil // nothing to add to: the gradient is written
		convInputGrad(x.grad().Data, w.Value.Data, g.Data, s, fresh)
	}
}

// gradBuf is the scratch of one convolution's backward, reused across
// calls (and training steps) through gradBufs rather than allocated anew.
type gradBuf struct{ a, b, c []float32 }

var gradBufs = sync.Pool{New: func() any { return new(gradBuf) }}

// maxGradCols bounds the columns of the im2col matrix that the weight
// gradient builds at once (times C*KH*KW values).
const maxGradCols = 1 << 13

// maxGradColValues bounds the im2col block the weight gradient holds (16
// MiB): its rows (the C*KH*KW filter taps) are taken a block at a time
// when there are more. At the release's widths the whole matrix would be
// up to 113 MB (a 32x32 CRN convolution: 3456 taps x 8192 columns).
const maxGradColValues = 1 << 22

// gradRowAlign: row blocks start at multiples of every kernel's mr, so
// that each value of dW^T is the same sum, in the same order, as from one
// product over all rows, and hold more than maxSwapRows rows.
const gradRowAlign = 48

// convWeightGrad adds dY col^T to dw (F, C*KH*KW), with the columns of
// several images in one product: per image, the inner dimension would be
// as small as 16 pixels (the CRN's first module), each product rewriting
// all of dw.
func convWeightGrad(dw, x, g []float32, s ConvShape) {
	outSize := s.OutH * s.OutW
	k := s.C * s.KH * s.KW
	per := max(1, min(s.N, maxGradCols/outSize)) // images per product
	rows := max(gradRowAlign, maxGradColValues/(per*outSize)/gradRowAlign*gradRowAlign)
	bufs := gradBufs.Get().(*gradBuf)
	defer gradBufs.Put(bufs)
	// Each is written whole before it is read (Gemm with beta 0).
	bufs.a = grow(bufs.a, min(k, 2*rows)*per*outSize)
	bufs.b = grow(bufs.b, s.F*per*outSize)
	bufs.c = grow(bufs.c, min(k, 2*rows)*s.F)
	for n0 := 0; n0 < s.N; n0 += per {
		nb := min(per, s.N-n0)
		// dY as (F, nb*outSize).
		gc := bufs.b
		gatherImages(gc, g[n0*s.F*outSize:], s.F, outSize, nb)
		for r0 := 0; r0 < k; {
			r1 := r0 + rows
			if k-r0 < 2*rows {
				r1 = k // the last block takes the rest
			}
			convWeightGradRows(dw, x, gc, bufs, s, n0, nb, r0, r1)
			r0 = r1
		}
	}
}

// convWeightGradRows adds rows [r0, r1) of dW^T for images [n0, n0+nb)
// to dw, given their dY as (F, cols) in gc.
func convWeightGradRows(dw, x, gc []float32, bufs *gradBuf, s ConvShape, n0, nb, r0, r1 int) {
	outSize := s.OutH * s.OutW
	k := s.C * s.KH * s.KW
	inSize := s.C * s.H * s.W
	cols := nb * outSize
	m := r1 - r0
	col, dwT := bufs.a[:m*cols], bufs.c[:m*s.F]
	// col (m, cols): image i's columns at [i*outSize, (i+1)*outSize).
	parallel(Threads(), m, func(lo, hi int) {
		for i := 0; i < nb; i++ {
			im2colRows(col, cols, i*outSize, x[(n0+i)*inSize:][:inSize], s, r0, r0+lo, r0+hi)
		}
	})
	// dW^T = col dY^T: col is read in place and only the smaller dY
	// is packed transposed (k = 9C values per column against F).
	Gemm(false, true, m, s.F, cols, 1, col, cols, gc, cols, 0, dwT, s.F)
	for f := 0; f < s.F; f++ {
		row := dw[f*k+r0:][:m]
		for r := range row {
			row[r] += dwT[r*s.F+f]
		}
	}
}

// convInputGrad adds the gradient of the input, given the output's, to dx
// (N, C, H, W); with overwrite (dx is a fresh gradient of zeros) the
// fast path writes it there instead of adding a copy. With stride 1 and padding below the kernel size, that is a
// convolution of dY with the filters flipped and their channels swapped,
// padded KH-1-Pad: the fast forward path (Winograd included). Otherwise
// W^T dY is scattered back (col2im), image by image.
func convInputGrad(dx, w, g []float32, s ConvShape, overwrite bool) {
	outSize := s.OutH * s.OutW
	k := s.C * s.KH * s.KW
	inSize := s.C * s.H * s.W
	bufs := gradBufs.Get().(*gradBuf)
	defer gradBufs.Put(bufs)
	if s.Stride == 1 && s.KH == s.KW && s.Pad <= s.KH-1 {
		bufs.a = grow(bufs.a, s.F*k)
		wt := bufs.a
		kk := s.KH * s.KW
		for f := 0; f < s.F; f++ {
			for c := 0; c < s.C; c++ {
				src := w[(f*s.C+c)*kk:][:kk]
				dst := wt[(c*s.F+f)*kk:][:kk]
				for i, v := range src {
					dst[kk-1-i] = v
				}
			}
		}
		t := ConvShape{N: s.N, C: s.F, H: s.OutH, W: s.OutW, F: s.C, KH: s.KH, KW: s.KW,
			Stride: 1, Pad: s.KH - 1 - s.Pad, OutH: s.H, OutW: s.W}
		if overwrite {
			conv2dInputs(dx, []ConvInput{{Data: g, C: s.F}}, wt, t, nil, false)
			return
		}
		bufs.b = grow(bufs.b, s.N*inSize)
		tmp := bufs.b // written whole by the convolution
		conv2dInputs(tmp, []ConvInput{{Data: g, C: s.F}}, wt, t, nil, false)
		addTo(dx[:s.N*inSize], tmp)
		return
	}
	// W^T dY for several images in one product, dY gathered as (F, cols):
	// per image the product would be as narrow as 4 pixels (a
	// discriminator's last layer on object crops), W^T packed anew for
	// each. Each column's sum is the same either way.
	per := max(1, min(s.N, maxGradColValues/(k*outSize))) // images per product
	bufs.a = grow(bufs.a, k*per*outSize)
	bufs.b = grow(bufs.b, s.F*per*outSize)
	for n0 := 0; n0 < s.N; n0 += per {
		nb := min(per, s.N-n0)
		cols := nb * outSize
		gc, col := bufs.b[:s.F*cols], bufs.a[:k*cols]
		gatherImages(gc, g[n0*s.F*outSize:], s.F, outSize, nb)
		Gemm(true, false, k, cols, s.F, 1, w, k, gc, cols, 0, col, cols)
		// The planes of dX are independent: (image, channel) pairs are
		// shared out, each added up in the same order as alone.
		parallel(Threads(), nb*s.C, func(lo, hi int) {
			for q := lo; q < hi; q++ {
				i, c := q/s.C, q%s.C
				col2imChannels(dx[(n0+i)*inSize:(n0+i+1)*inSize], col[i*outSize:], cols, s, c, c+1)
			}
		})
	}
}

// gatherImages copies nb images of dY (F, size each) into gc as one
// (F, nb*size) matrix, image i's columns at [i*size, (i+1)*size).
func gatherImages(gc, g []float32, f, size, nb int) {
	cols := nb * size
	for i := 0; i < nb; i++ {
		gi := g[i*f*size:]
		for r := 0; r < f; r++ {
			copy(gc[r*cols+i*size:][:size], gi[r*size:][:size])
		}
	}
}

func nn4(g *Tensor, s ConvShape) bool {
	return SameShape(g.Shape, []int{s.N, s.F, s.OutH, s.OutW})
}

// col2imChannels adds the columns of col (C*KH*KW, OutH*OutW; rows ld
// apart) of channels [c0, c1) back onto the image dst (C, H, W): the
// adjoint of Im2col.
func col2imChannels(dst, col []float32, ld int, s ConvShape, c0, c1 int) {
	outSize := s.OutH * s.OutW
	for c := c0; c < c1; c++ {
		plane := dst[c*s.H*s.W : (c+1)*s.H*s.W]
		for ky := 0; ky < s.KH; ky++ {
			for kx := 0; kx < s.KW; kx++ {
				row := col[((c*s.KH+ky)*s.KW+kx)*ld:][:outSize]
				// As in im2colRows, the columns that land inside the
				// image are one range: no test per value.
				lo, hi := validCols(s, kx)
				if lo >= hi {
					continue
				}
				ix0 := lo*s.Stride - s.Pad + kx
				for oy := 0; oy < s.OutH; oy++ {
					iy := oy*s.Stride - s.Pad + ky
					if iy < 0 || iy >= s.H {
						continue
					}
					src := row[oy*s.OutW+lo : oy*s.OutW+hi]
					in := plane[iy*s.W+ix0 : (iy+1)*s.W]
					if s.Stride == 1 {
						addTo(in[:len(src)], src)
						continue
					}
					for ox, v := range src {
						in[ox*s.Stride] += v
					}
				}
			}
		}
	}
}
