package nn

import (
	"fmt"
	"sync"
	"sync/atomic"
)

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
func Conv2d(x, w, b *Tensor, stride, pad int) *Tensor { return conv2d(x, w, b, stride, pad, true) }

// conv2d is Conv2d; keep is conv2dInputs'.
func conv2d(x, w, b *Tensor, stride, pad int, keep bool) *Tensor {
	s := NewConvShape(x, w, stride, pad)
	if b != nil && b.Numel() != s.F {
		panic(fmt.Sprintf("nn: Conv2d: bias %v for %d filters", b.Shape, s.F))
	}
	y := New(s.N, s.F, s.OutH, s.OutW)
	var epi *Epilogue
	if b != nil {
		epi = &Epilogue{Shift: b.Data}
	}
	conv2dInputs(y.Data, []ConvInput{{Data: x.Data, C: s.C}}, w.Data, s, epi, keep)
	return y
}

// Conv2dForward writes the convolution into dst (N, F, OutH, OutW); bias
// may be nil. col is unused (the product reads the receptive fields
// straight from x) and may be nil; it is kept for callers that pass
// s.ColSize() values of scratch.
func Conv2dForward(dst, x, w, bias, col []float32, s ConvShape) {
	var epi *Epilogue
	if bias != nil {
		epi = &Epilogue{Shift: bias}
	}
	Conv2dFused(dst, x, w, s, epi)
}

// Conv2dFused writes epi applied to the convolution of x (N, C, H, W) with
// w (F, C, KH, KW) into dst (N, F, OutH, OutW): with epi's Scale and Shift
// a convolution's bias and an eval-mode batch norm, and its activation,
// cost one pass over each output tile while it is in cache. epi may be nil.
func Conv2dFused(dst, x, w []float32, s ConvShape, epi *Epilogue) {
	Conv2dInputs(dst, []ConvInput{{Data: x, C: s.C}}, w, s, epi)
}

// ConvInput is a group of C channels of a convolution's input: Data holds
// (N, C, H/Up, W/Up) values, each pixel standing for an Up x Up block
// (nearest-neighbour upsampling) when Up > 1. Scale and Shift, when not
// nil, hold one value per channel and map every input pixel v to
// v*Scale[c] + Shift[c] (an eval-mode batch norm before the convolution);
// the zero padding stays zero.
type ConvInput struct {
	Data         []float32
	C            int
	Up           int
	Scale, Shift []float32
}

// Conv2dInputs is Conv2dFused over the channel concatenation of ins, each
// upsampled to s.H x s.W, without building the concatenation: the channel
// counts add up to s.C.
//
// When the kernel's tile width divides OutH*OutW, the N images make one
// product, with the pixels of all images as its columns.
func Conv2dInputs(dst []float32, ins []ConvInput, w []float32, s ConvShape, epi *Epilogue) {
	conv2dInputs(dst, ins, w, s, epi, true)
}

// conv2dInputs is Conv2dInputs; keep says whether Winograd's transformed
// filters may be kept for the next call with the same w (not for filters
// built for one call).
func conv2dInputs(dst []float32, ins []ConvInput, w []float32, s ConvShape, epi *Epilogue, keep bool) {
	outSize := s.OutH * s.OutW
	k := s.C * s.KH * s.KW
	c := 0
	for _, in := range ins {
		up := max(in.Up, 1)
		if in.C < 0 || s.H%up != 0 || s.W%up != 0 || len(in.Data) < s.N*in.C*(s.H/up)*(s.W/up) ||
			in.Scale != nil && len(in.Scale) < in.C || in.Shift != nil && len(in.Shift) < in.C {
			panic(fmt.Sprintf("nn: Conv2dInputs: input of %d channels upsampled %d, %d values, for %+v", in.C, up, len(in.Data), s))
		}
		c += in.C
	}
	if c != s.C || len(dst) < s.N*s.F*outSize || len(w) < s.F*k {
		panic(fmt.Sprintf("nn: Conv2dInputs: dst %d, %d input channels, w %d values for %+v", len(dst), c, len(w), s))
	}
	if epi != nil && (epi.Scale != nil && len(epi.Scale) < s.F || epi.Shift != nil && len(epi.Shift) < s.F) {
		panic(fmt.Sprintf("nn: Conv2dInputs: epilogue for %d filters", s.F))
	}
	if k == 0 {
		clear(dst[:s.N*s.F*outSize])
		if epi != nil {
			for n := 0; n < s.N; n++ {
				epi.apply(dst[n*s.F*outSize:], outSize, 0, s.F, outSize)
			}
		}
		return
	}
	kern := activeKernel
	// A 1x1 stride-1 unpadded convolution of one plain input reads it as B.
	if s.direct() && len(ins) == 1 && ins[0].Up <= 1 && ins[0].Scale == nil && ins[0].Shift == nil {
		for n := 0; n < s.N; n++ {
			work := gemmWork{
				kern: kern, m: s.F, n: outSize, k: k, alpha: 1,
				a:   gemmA{data: w, ld: k},
				b:   gemmB{data: ins[0].Data[n*s.C*outSize:], ld: outSize},
				dst: dst[n*s.F*outSize:], ldc: outSize, epi: epi, bl: blocking,
			}
			work.run(Threads())
		}
		return
	}
	if useWinograd(s, kern, keep) {
		conv2dWinograd(dst, ins, w, s, epi, kern, keep)
		return
	}
	if outSize%kern.nr == 0 {
		convImages(dst, ins, w, s, epi, 0, s.N, s.N, Threads())
		return
	}
	// A tile would straddle two images: one product per image. Small ones
	// (a discriminator's crops) are too small to split well, so the
	// images are shared out among the goroutines instead, each product on
	// one; every image is computed as it would be alone.
	t := Threads()
	if t <= 1 || s.N < minImagesPerThread*t {
		convImages(dst, ins, w, s, epi, 0, s.N, 1, t)
		return
	}
	var next atomic.Int64
	parallel(t, t, func(int, int) {
		for {
			n := int(next.Add(1)) - 1
			if n >= s.N {
				return
			}
			convImages(dst, ins, w, s, epi, n, n+1, 1, 1)
		}
	})
}

// minImagesPerThread: a convolution of one product per image shares out
// whole images when each goroutine gets at least this many (the last one
// taken then holds up the others little); otherwise each product is split.
const minImagesPerThread = 2

// convImages convolves images [n0, n1), batch images per product, with
// products on up to t goroutines. With batch > 1, the kernel's tile width
// must divide OutH*OutW.
func convImages(dst []float32, ins []ConvInput, w []float32, s ConvShape, epi *Epilogue, n0, n1, batch, t int) {
	outSize := s.OutH * s.OutW
	k := s.C * s.KH * s.KW
	src := convSources.Get().(*convSource)
	defer convSources.Put(src)
	src.offsets(s, batch)
	for n := n0; n < n1; n += batch {
		src.loadOn(ins, n, batch, s, false, t)
		work := gemmWork{
			kern: activeKernel, m: s.F, n: batch * outSize, k: k, alpha: 1,
			a:   gemmA{data: w, ld: k},
			b:   gemmB{conv: src},
			dst: dst[n*s.F*outSize:], ldc: outSize, epi: epi, bl: blocking,
		}
		if batch > 1 {
			work.imgCols = outSize
		}
		work.run(t)
	}
}

// convSource is the im2col matrix of a batch of images (C*KH*KW rows,
// OutH*OutW columns per image) as the packer and the kernels read it,
// without materialising it: element (p, j) is x[rowOff[p]+colOff[j]] of
// the zero-padded images x.
type convSource struct {
	x              []float32 // (batch, C, H+2*Pad, W+2*Pad)
	rowOff, colOff []int
	stride, outW   int
}

var convSources = sync.Pool{New: func() any { return new(convSource) }}

// offsets sets the offsets for batch images of shape s.
func (c *convSource) offsets(s ConvShape, batch int) {
	c.stride, c.outW = s.Stride, s.OutW
	hp, wp := s.H+2*s.Pad, s.W+2*s.Pad
	c.rowOff = grow(c.rowOff, s.C*s.KH*s.KW)
	for ch, p := 0, 0; ch < s.C; ch++ {
		for ky := 0; ky < s.KH; ky++ {
			for kx := 0; kx < s.KW; kx++ {
				c.rowOff[p] = (ch*hp+ky)*wp + kx
				p++
			}
		}
	}
	c.colOff = grow(c.colOff, batch*s.OutH*s.OutW)
	j := 0
	for n := 0; n < batch; n++ {
		for oy := 0; oy < s.OutH; oy++ {
			for ox := 0; ox < s.OutW; ox++ {
				c.colOff[j] = n*s.C*hp*wp + (oy*wp+ox)*s.Stride
				j++
			}
		}
	}
}

// grow returns buf resized to n, reallocating only when it is too small.
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// load copies images [n0, n0+batch) of the concatenated, upsampled,
// rescaled inputs into the zero-padded buffer, splitting the planes among
// goroutines when there are many. With split, each padded row holds its
// even columns and then its odd ones (the Winograd layout).
func (c *convSource) load(ins []ConvInput, n0, batch int, s ConvShape, split bool) {
	c.loadOn(ins, n0, batch, s, split, Threads())
}

// loadOn is load on up to t goroutines.
func (c *convSource) loadOn(ins []ConvInput, n0, batch int, s ConvShape, split bool, t int) {
	hp, wp := s.H+2*s.Pad, s.W+2*s.Pad
	c.x = grow(c.x, batch*s.C*hp*wp)
	planes := batch * s.C
	parts := min(t, max(1, planes*hp*wp/minParallelCopy))
	parallel(parts, planes, func(lo, hi int) { c.loadPlanes(ins, n0, lo, hi, s, split) })
}

// minParallelCopy: a padded copy of fewer values (~1 ms) runs on one
// goroutine.
const minParallelCopy = 1 << 18

// loadPlanes fills planes [lo, hi) of the padded buffer, plane q being
// channel q%C of image n0+q/C.
func (c *convSource) loadPlanes(ins []ConvInput, n0, lo, hi int, s ConvShape, split bool) {
	hp, wp := s.H+2*s.Pad, s.W+2*s.Pad
	for q := lo; q < hi; q++ {
		n, ch := n0+q/s.C, q%s.C
		in, ic := ins[0], ch
		for _, cand := range ins {
			if ic < cand.C {
				in = cand
				break
			}
			ic -= cand.C
		}
		up := max(in.Up, 1)
		h, w := s.H/up, s.W/up
		src := in.Data[(n*in.C+ic)*h*w:][:h*w]
		scale, shift := float32(1), float32(0)
		if in.Scale != nil {
			scale = in.Scale[ic]
		}
		if in.Shift != nil {
			shift = in.Shift[ic]
		}
		affine := in.Scale != nil || in.Shift != nil
		plane := c.x[q*hp*wp : (q+1)*hp*wp]
		clear(plane[:s.Pad*wp])
		clear(plane[(hp-s.Pad)*wp:])
		for y := 0; y < s.H; y++ {
			row := plane[(y+s.Pad)*wp : (y+s.Pad+1)*wp]
			clear(row[:s.Pad])
			clear(row[s.Pad+s.W:])
			in := src[(y/up)*w : (y/up+1)*w]
			if split {
				splitRow(row, in, s.W, up, scale, shift, affine)
				continue
			}
			out := row[s.Pad : s.Pad+s.W]
			switch {
			case up == 1 && !affine:
				copy(out, in)
			case up == 1:
				for x, v := range in {
					out[x] = v*scale + shift
				}
			default:
				for x := range out {
					out[x] = in[x/up]*scale + shift
				}
			}
		}
	}
}

// splitRow writes a padded row of w pixels (padding 1) from in,
// upsampled up times, as its even padded columns and then its odd ones:
// pixel x is padded column x+1, so even pixels go to the odd half.
func splitRow(row, in []float32, w, up int, scale, shift float32, affine bool) {
	half := w/2 + 1
	even, odd := row[:half], row[half:2*half]
	even[0], odd[half-1] = 0, 0
	even, odd = even[1:], odd[:half-1] // pixel 2i+1, pixel 2i
	switch {
	case up == 1 && !affine:
		in = in[:2*len(odd)]
		for i := range odd {
			odd[i], even[i] = in[2*i], in[2*i+1]
		}
	case up == 1:
		in = in[:2*len(odd)]
		for i := range odd {
			odd[i], even[i] = in[2*i]*scale+shift, in[2*i+1]*scale+shift
		}
	case up == 2:
		in = in[:len(odd)]
		for i, v := range in {
			v = v*scale + shift
			odd[i], even[i] = v, v
		}
	default:
		for i := range odd {
			odd[i], even[i] = in[2*i/up]*scale+shift, in[(2*i+1)/up]*scale+shift
		}
	}
}

// hasRuns reports whether some nr consecutive columns are consecutive
// pixels of one row (see run).
func (c *convSource) hasRuns(nr int) bool { return c.stride == 1 && c.outW >= nr }

// run returns the image from the first pixel of columns [j, j+nr) when
// they are consecutive pixels of one row, so that row p of their panel is
// x[rowOff[p]:][:nr]; otherwise nil.
func (c *convSource) run(j, nr int) []float32 {
	if j+nr > len(c.colOff) || c.colOff[j+nr-1]-c.colOff[j] != nr-1 {
		return nil
	}
	return c.x[c.colOff[j]:]
}

// pack writes rows [p0, p0+kc) and columns [j0, j0+nc) of the im2col
// matrix into micro-panels of nr columns, as gemmWork.packB does. With
// skipRuns it leaves out the panels that the kernel reads in place (run).
func (c *convSource) pack(dst []float32, nr, p0, kc, j0, nc int, skipRuns bool) {
	rows := c.rowOff[p0 : p0+kc]
	for jp := 0; jp < nc; jp += nr {
		panel := dst[jp*kc : (jp+nr)*kc]
		cols := min(nr, nc-jp)
		offs := c.colOff[j0+jp : j0+jp+cols]
		// Offsets increase with j, so a span of cols-1 means consecutive
		// pixels of one row: the panel row is one slice of x.
		run := offs[cols-1]-offs[0] == cols-1
		if run && skipRuns && cols == nr {
			continue
		}
		for p, r := range rows {
			d := panel[p*nr : (p+1)*nr]
			if run {
				s := c.x[r+offs[0]:][:cols]
				for i := range s {
					d[i] = s[i]
				}
			} else {
				for i, o := range offs {
					d[i] = c.x[r+o]
				}
			}
			clear(d[cols:])
		}
	}
}

// Im2col lays out the receptive fields of one image x (C, H, W) as the
// columns of dst (C*KH*KW, OutH*OutW), zeros where they cross the padding.
func Im2col(dst, x []float32, s ConvShape) {
	outSize := s.OutH * s.OutW
	im2colRows(dst, outSize, 0, x, s, 0, 0, s.C*s.KH*s.KW)
}

// im2colRows writes rows [r0, r1) of one image's im2col matrix into dst,
// whose rows are ld long and whose first row is the matrix's row base, at
// column j0. Per kernel column kx the output
// columns that read inside the image are one range (validCols): zeros are
// written outside it and no test is made per value inside.
func im2colRows(dst []float32, ld, j0 int, x []float32, s ConvShape, base, r0, r1 int) {
	kk := s.KH * s.KW
	for r := r0; r < r1; r++ {
		c, ky, kx := r/kk, r%kk/s.KW, r%s.KW
		plane := x[c*s.H*s.W : (c+1)*s.H*s.W]
		row := dst[(r-base)*ld+j0:][:s.OutH*s.OutW]
		lo, hi := validCols(s, kx)
		for oy := 0; oy < s.OutH; oy++ {
			iy := oy*s.Stride - s.Pad + ky
			out := row[oy*s.OutW : (oy+1)*s.OutW]
			if iy < 0 || iy >= s.H || lo >= hi {
				clear(out)
				continue
			}
			clear(out[:lo])
			clear(out[hi:])
			in := plane[iy*s.W : (iy+1)*s.W]
			ix0 := lo*s.Stride - s.Pad + kx
			if s.Stride == 1 {
				copy(out[lo:hi], in[ix0:])
				continue
			}
			in = in[ix0:]
			for ox := range out[lo:hi] {
				out[lo+ox] = in[ox*s.Stride]
			}
		}
	}
}

// validCols is the range [lo, hi) of output columns ox whose input column
// ox*Stride - Pad + kx lies inside the image; lo >= hi when none does.
func validCols(s ConvShape, kx int) (lo, hi int) {
	if d := s.Pad - kx; d > 0 {
		lo = (d + s.Stride - 1) / s.Stride
	}
	if e := s.W - 1 + s.Pad - kx; e >= 0 {
		hi = min(s.OutW, e/s.Stride+1)
	}
	return lo, hi
}
