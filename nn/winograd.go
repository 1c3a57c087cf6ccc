package nn

import (
	"bytes"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

// Winograd F(2x2, 3x3) convolution (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015): each 2x2 block of outputs is
//
//	Y = A^T [(G g G^T) ⊙ (B^T d B)] A
//
// for the 3x3 filter g and the 4x4 input patch d around the block, which
// takes 16 multiplications per (filter, channel, block) instead of 36. The
// 16 element-wise products summed over channels are 16 matrix products
// U[ξ] (F x C) V[ξ] (C x tiles), one per position ξ = 4i+j of the 4x4
// transformed tile, run through the same GEMM tile kernel. It pays from
// 8 x 8 images (one 16-tile panel), where the products dominate the
// transforms (the filters' transforms are cached): ~2x faster than the
// direct convolution on the CRN's layers (docs/speed.md).
//
// Layouts (floats):
//   - U: for each ξ, filters in panels of 6 rows spanning all C channels,
//     U[ξ][f/6][c][f%6]: the packed A operand of tile6x16 (full-K panels).
//   - padded input: per channel, H+2 rows of W+2 values, each row's even
//     columns then its odd columns, so that the transform reads whole
//     registers of tiles.
//   - V: for a block of tiles, V[ξ][t/16][c][t%16]: the packed B operand,
//     planes winogradSkew floats apart.
//   - M: the products, M[ξ][f][t] for f < fPad (a multiple of 6), planes
//     likewise.
//
// The kernel supplies the transforms (gemmKernel.winoIn and winoOut) for
// widths it handles; the portable ones (winogradInput, winogradOutput)
// serve the rest and the generic kernel.

// B^T, G and A^T of F(2x2, 3x3):
//
//	B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//	A^T = [1 1 1 0; 0 1 -1 -1]

// Kernels set gemmKernel.winoMinPixels, the least outputs from which
// Winograd pays. The AVX2 kernel: from 8 x 8 when the filters' transforms
// are kept (at 4 x 4 a panel of 16 tiles would hold 4), from 32 x 32, as
// before they were kept, when they are made on every call (a tape's:
// training changes its weights every step; below 32 x 32, transforms
// made per call were not measured to pay at batch 8); its
// input transform handles widths of 16 and multiples of 32, its output
// transform multiples of 16, the portable ones the rest. The portable
// kernel (~30 times slower multiplies): the coco64 generator compiled to
// WebAssembly took 1.84 s with Winograd from 16 x 16, 2.08 s from 8 x 8
// (where the filters of the widest layers cost more to transform than
// they save) and 2.55 s from 4 x 4.

// winogradSkew is the padding between the planes of V and of M.
const winogradSkew = 16

// winogradTiles is about how many tiles a block holds: its V and M fit in
// L2/L3 while its products are wide enough (four 16-tile panels).
const winogradTiles = 64

// useWinograd reports whether shape s is convolved with Winograd by kernel
// k: 3x3, stride 1, padding 1, even sizes, and large enough to pay, with
// the filters' transforms kept between calls (keep) or not.
func useWinograd(s ConvShape, k *gemmKernel, keep bool) bool {
	least := k.winoMinPixels
	if !keep && k.winoMinPixelsFresh > 0 {
		least = k.winoMinPixelsFresh
	}
	return least > 0 && s.KH == 3 && s.KW == 3 && s.Stride == 1 && s.Pad == 1 &&
		s.H%2 == 0 && s.W%2 == 0 && s.H*s.W >= least
}

// asmOutput reports whether the kernel's output transform handles width
// w: it writes groups of 8 tiles (16 pixels).
func asmOutput(k *gemmKernel, w int) bool { return k.winoOut != nil && w%16 == 0 }

// asmTransforms reports whether the kernel's input transform handles width w:
// they work on runs of nr tiles within a row (2*nr pixels).
func asmTransforms(k *gemmKernel, w int) bool { return k.winoIn != nil && w%(2*k.nr) == 0 }

// winogradBuf is one goroutine's V and M.
type winogradBuf struct{ v, m []float32 }

var winogradBufs = sync.Pool{New: func() any { return new(winogradBuf) }}

// winogradCache keeps transformed filters, U, between calls: a model's
// weights stay the same from one generation to the next, and transforming
// them took ~9% of a coco64 generation compiled to WebAssembly. An entry
// is used only while its copy of the weights equals them bit for bit, so
// that weights changed in place (an optimizer step) are transformed anew.
// Entries are keyed by weak pointers to the weights and dropped once the
// weights are collected, so that a model that is let go (a test's, a
// model replaced by another) takes its transforms with it.
var winogradCache struct {
	sync.Mutex
	entries map[weak.Pointer[float32]]*winogradEntry
	floats  int // held in entries
}

type winogradEntry struct {
	w, u     []float32
	fPad, mr int
}

// winogradCacheMax bounds the floats that the cache holds (weights and
// transforms): past it the cache starts over.
const winogradCacheMax = 1 << 26

// winogradFiltersCached returns U for the filters w (f, c, 3, 3), from the
// cache or transformed on up to threads goroutines. U must not be written.
func winogradFiltersCached(w []float32, f, c, fPad, mr, threads int) []float32 {
	key := weak.Make(&w[0])
	winogradCache.Lock()
	e := winogradCache.entries[key]
	winogradCache.Unlock()
	if e != nil && e.fPad == fPad && e.mr == mr && sameBitsParallel(e.w, w, threads) {
		return e.u
	}
	u := winogradFiltersNew(w, f, c, fPad, mr, threads)
	e = &winogradEntry{w: append([]float32(nil), w...), u: u, fPad: fPad, mr: mr}
	winogradCache.Lock()
	defer winogradCache.Unlock()
	old := winogradCache.entries[key]
	if old != nil {
		winogradCache.floats -= len(old.w) + len(old.u)
	} else {
		// Several cleanups for one key (after the cache started over) find
		// it gone but the first.
		runtime.AddCleanup(&w[0], dropWinogradEntry, key)
	}
	if winogradCache.entries == nil || winogradCache.floats+len(e.w)+len(e.u) > winogradCacheMax {
		winogradCache.entries, winogradCache.floats = map[weak.Pointer[float32]]*winogradEntry{}, 0
	}
	winogradCache.entries[key] = e
	winogradCache.floats += len(e.w) + len(e.u)
	return u
}

// dropWinogradEntry forgets the entry of weights that were collected.
func dropWinogradEntry(key weak.Pointer[float32]) {
	winogradCache.Lock()
	defer winogradCache.Unlock()
	if e := winogradCache.entries[key]; e != nil {
		winogradCache.floats -= len(e.w) + len(e.u)
		delete(winogradCache.entries, key)
	}
}

// winogradFiltersNew transforms the filters w into a new U on up to
// threads goroutines.
func winogradFiltersNew(w []float32, f, c, fPad, mr, threads int) []float32 {
	u := make([]float32, 16*fPad*c)
	parallel(threads, fPad/mr, func(q0, q1 int) { winogradFilters(u, w, f, c, fPad, mr, q0, q1) })
	return u
}

// sameBitsParallel is sameBits on up to threads goroutines: the check
// reads every weight of every cached layer on every pass (9 ms of a
// vg128 generation on one thread), memory-bound work that one goroutine
// leaves the other core idle through.
func sameBitsParallel(a, b []float32, threads int) bool {
	if len(a) != len(b) {
		return false
	}
	parts := min(threads, max(1, len(a)/minParallelCopy))
	var differ atomic.Bool
	parallel(parts, len(a), func(lo, hi int) {
		if !sameBits(a[lo:hi], b[lo:hi]) {
			differ.Store(true)
		}
	})
	return !differ.Load()
}

// sameBits reports whether a and b hold the same bits.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	as := unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), 4*len(a))
	bs := unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), 4*len(b))
	return bytes.Equal(as, bs)
}

// conv2dWinograd is Conv2dInputs for shapes that useWinograd accepts.
func conv2dWinograd(dst []float32, ins []ConvInput, w []float32, s ConvShape, epi *Epilogue, kern *gemmKernel, keep bool) {
	threads := Threads()
	mr := kern.mr
	fPad := (s.F + mr - 1) / mr * mr
	filters := winogradFiltersNew
	if keep {
		filters = winogradFiltersCached
	}
	u := filters(w[:s.F*s.C*9], s.F, s.C, fPad, mr, threads)

	src := convSources.Get().(*convSource)
	defer convSources.Put(src)
	n := s.W / 2 // tiles per row
	rows := max(1, winogradTiles/n)
	blocks := (s.H/2 + rows - 1) / rows
	ep := newWinoEpilogue(epi, s.F)
	dense := denseChannels(ins)
	for img := 0; img < s.N; img++ {
		src.load(ins, img, 1, s, true)
		out := dst[img*s.F*s.H*s.W:]
		if kern.winoList != nil && asmTransforms(kern, s.W) {
			buf := winogradBufs.Get().(*winogradBuf)
			kern.winoList(buf, out, src.x, u, s, fPad, kern, ep.scale, ep.shift, ep.slope, ep.act)
			winogradBufs.Put(buf)
			continue
		}
		if blocks < threads {
			winogradSplit(out, src.x, u, s, fPad, dense, kern, ep, threads)
			continue
		}
		var next atomic.Int64
		parallel(threads, threads, func(int, int) {
			buf := winogradBufs.Get().(*winogradBuf)
			defer winogradBufs.Put(buf)
			for {
				b := int(next.Add(1)) - 1
				if b >= blocks {
					return
				}
				ty0 := b * rows
				blk := newWinoBlock(buf, s, fPad, dense, ty0, min(s.H/2, ty0+rows), kern)
				blk.inputs(src.x, 0, s.C)
				blk.products(u, 0, fPad/mr)
				blk.outputs(out, ep, 0, s.F)
			}
		})
	}
}

// winogradSplit convolves a whole image as one block, for images with
// fewer blocks than threads (16 x 16 and smaller): the goroutines share
// the input transform by channels, then the products and the output
// transform by panels of filters.
func winogradSplit(out, x, u []float32, s ConvShape, fPad, dense int, kern *gemmKernel, ep winoEpilogue, threads int) {
	buf := winogradBufs.Get().(*winogradBuf)
	defer winogradBufs.Put(buf)
	blk := newWinoBlock(buf, s, fPad, dense, 0, s.H/2, kern)
	parallel(threads, s.C, func(c0, c1 int) { blk.inputs(x, c0, c1) })
	mr := kern.mr
	parallel(threads, fPad/mr, func(q0, q1 int) {
		blk.products(u, q0, q1)
		blk.outputs(out, ep, q0*mr, min(q1*mr, s.F))
	})
}

// winoEpilogue is an Epilogue as the output transforms take it: per-filter
// scale and shift (ones and zeros without one) and the activation.
type winoEpilogue struct {
	scale, shift []float32
	slope        float32
	act          bool
}

func newWinoEpilogue(epi *Epilogue, f int) winoEpilogue {
	scale, shift, slope, act := epilogueRow(epi, f)
	return winoEpilogue{scale, shift, slope, act}
}

// denseChannels is the number of channels of the concatenation ins before
// its trailing run of inputs upsampled an even number of times. In such a
// channel every 4x4 patch has its middle two rows equal, and its middle
// two columns, so that V = B^T d B is exactly zero at the 7 positions ξ =
// 4i+j with i = 2 or j = 2 (row 2 of B^T takes d2 - d1, on rows and on
// columns): the
// products skip those channels there. The CRN's first convolution of each
// module reads its features upsampled last (86% of the channels of the
// vg128 16 x 16 layer), the mask net all its channels.
func denseChannels(ins []ConvInput) int {
	c := 0
	for _, in := range ins {
		c += in.C
	}
	for i := len(ins) - 1; i >= 0 && ins[i].Up >= 2 && ins[i].Up%2 == 0; i-- {
		c -= ins[i].C
	}
	return c
}

// upsampledZero reports whether position ξ = 4i+j of V is zero for an
// upsampled channel (denseChannels): i = 2 or j = 2.
func upsampledZero(xi int) bool { return xi/4 == 2 || xi%4 == 2 }

// epilogueRow returns per-filter scale and shift (ones and zeros for a nil
// epilogue) and the activation.
func epilogueRow(epi *Epilogue, f int) (scale, shift []float32, slope float32, act bool) {
	scale, shift = make([]float32, f), make([]float32, f)
	for i := range scale {
		scale[i] = 1
	}
	if epi == nil {
		return scale, shift, 0, false
	}
	if epi.Scale != nil {
		copy(scale, epi.Scale)
	}
	if epi.Shift != nil {
		copy(shift, epi.Shift)
	}
	return scale, shift, epi.Slope, epi.Act
}

// winogradFilters writes U = G g G^T for the filters of panels [q0, q1)
// (mr filters each) into u; filters past f are zeros. For each channel of
// a panel, the 16 values of its filters are written as 16 runs of mr.
func winogradFilters(u, w []float32, f, c, fPad, mr, q0, q1 int) {
	xi := fPad * c          // stride between the 16 matrices
	var out [16][16]float32 // [ξ][filter of the panel]; mr <= 16
	for q := q0; q < q1; q++ {
		for ch := 0; ch < c; ch++ {
			for i := 0; i < mr; i++ {
				if mr*q+i >= f {
					for x := range out {
						out[x][i] = 0
					}
					continue
				}
				g := w[((mr*q+i)*c+ch)*9:][:9]
				// t = G g, 4 x 3.
				var t [4][3]float32
				for col := 0; col < 3; col++ {
					a, b, d := g[col], g[3+col], g[6+col]
					t[0][col] = a
					t[1][col] = (a + b + d) * 0.5
					t[2][col] = (a - b + d) * 0.5
					t[3][col] = d
				}
				// U = t G^T, 4 x 4.
				for r := 0; r < 4; r++ {
					a, b, d := t[r][0], t[r][1], t[r][2]
					out[4*r][i] = a
					out[4*r+1][i] = (a + b + d) * 0.5
					out[4*r+2][i] = (a - b + d) * 0.5
					out[4*r+3][i] = d
				}
			}
			base := q*mr*c + ch*mr
			for x := range out {
				copyShort(u[x*xi+base:][:mr], out[x][:mr])
			}
		}
	}
}

// copyShort copies a few values without calling memmove.
func copyShort(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] = src[i]
	}
}

// winoBlock is tile rows [ty0, ty1) of one image with their V and M
// (a winogradBuf's): the input transform, the products and the output
// transform of a Winograd convolution, each over a range of channels or
// filters so that goroutines can share one block.
type winoBlock struct {
	v, m             []float32
	s                ConvShape
	kern             *gemmKernel
	fPad, ty0, ty1   int
	dense            int  // channels before the upsampled ones (denseChannels)
	n, panels, tPad  int  // tiles per row, 16-tile panels, M's row length
	rowLen, plane    int  // of the padded input
	vStride, mStride int  // between the 16 planes of V and of M
	asm, asmOut      bool // the kernel's input and output transforms serve this width
	asmRows          bool // its input transform for rows of nr/2 tiles does
}

// newWinoBlock lays out the block's V and M in buf.
func newWinoBlock(buf *winogradBuf, s ConvShape, fPad, dense, ty0, ty1 int, kern *gemmKernel) *winoBlock {
	b := &winoBlock{s: s, kern: kern, fPad: fPad, dense: dense, ty0: ty0, ty1: ty1, n: s.W / 2}
	b.panels = ((ty1-ty0)*b.n + kern.nr - 1) / kern.nr
	b.tPad = b.panels * kern.nr
	b.rowLen = s.W + 2
	b.plane = (s.H + 2) * b.rowLen
	// The 16 planes of V and of M, which the transforms touch side by
	// side, are 16 floats (a cache line) more than a multiple of their
	// size apart: at a multiple of 4 KiB they would share L1 sets, which
	// made the input transform twice as slow.
	b.vStride, b.mStride = s.C*b.tPad+winogradSkew, fPad*b.tPad+winogradSkew
	buf.v = grow(buf.v, 16*b.vStride)
	buf.m = grow(buf.m, 16*b.mStride)
	b.v, b.m = buf.v, buf.m
	b.asm = asmTransforms(kern, s.W)
	b.asmOut = asmOutput(kern, s.W)
	b.asmRows = kern.winoInRows != nil && 2*b.n == kern.nr && (ty1-ty0)%2 == 0
	return b
}

// inputs writes V[ξ][t/nr][c][t%nr] = B^T d B for channels [c0, c1) of the
// padded, column-split input x, reading the padded rows from start to end.
func (b *winoBlock) inputs(x []float32, c0, c1 int) {
	s, nr := b.s, b.kern.nr
	for c := c0; c < c1; c++ {
		if b.asmRows { // runs of two tile rows, one panel each
			rows := x[c*b.plane+2*b.ty0*b.rowLen:]
			b.kern.winoInRows(rows, b.rowLen, b.n+1, b.v[c*nr:], b.vStride, 4*b.rowLen, nr*s.C, (b.ty1-b.ty0)/2)
			continue
		}
		if !b.asm {
			winogradInput(b.v, x[c*b.plane:], b.vStride, s.C, nr, c, b.n, b.ty0, b.ty1, b.rowLen)
			continue
		}
		for ty := b.ty0; ty < b.ty1; ty++ { // runs of nr tiles, one panel each
			rows := x[c*b.plane+2*ty*b.rowLen:]
			d := b.v[((ty-b.ty0)*b.n/nr*s.C+c)*nr:]
			b.kern.winoIn(rows, b.rowLen, b.n+1, d, b.vStride, nr, nr*s.C, b.n/nr)
		}
	}
}

// products computes M[ξ] = U[ξ] V[ξ] for the filter panels [q0, q1) (mr
// filters each), in steps of kc channels. The upsampled channels, whose V
// is zero at the planes upsampledZero names, are left out of those.
func (b *winoBlock) products(u []float32, q0, q1 int) {
	s, fPad, tPad := b.s, b.fPad, b.tPad
	mr, nr, kc := b.kern.mr, b.kern.nr, blocking.kc
	for xi := 0; xi < 16; xi++ {
		ux := u[xi*fPad*s.C:][:fPad*s.C]
		vx := b.v[xi*b.vStride:][:s.C*tPad]
		mx := b.m[xi*b.mStride:][:fPad*tPad]
		c := s.C
		if upsampledZero(xi) {
			c = b.dense
		}
		if c == 0 {
			clear(mx[q0*mr*tPad : q1*mr*tPad])
			continue
		}
		for pc := 0; pc < c; pc += kc {
			k := min(kc, c-pc)
			beta := float32(0)
			if pc > 0 {
				beta = 1
			}
			for q := q0; q < q1; q++ {
				a := ux[q*mr*s.C+pc*mr:][:mr*k]
				for p := 0; p < b.panels; p++ {
					b.kern.tile(k, a, vx[p*nr*s.C+pc*nr:][:nr*k], mx[q*mr*tPad+p*nr:], tPad, 1, beta)
				}
			}
		}
	}
}

// outputs writes Y = A^T M A with the epilogue for filters [f0, f1), one
// tile row of one filter at a time, into out (F, H, W).
func (b *winoBlock) outputs(out []float32, ep winoEpilogue, f0, f1 int) {
	s, n := b.s, b.n
	for f := f0; f < f1; f++ {
		for ty := b.ty0; ty < b.ty1; ty++ {
			mrow := b.m[f*b.tPad+(ty-b.ty0)*n:]
			orow := out[(f*s.H+2*ty)*s.W:][:2*s.W]
			if b.asmOut {
				b.kern.winoOut(mrow, b.mStride, orow, s.W, n/8, ep.scale[f], ep.shift[f], ep.slope, ep.act)
			} else {
				winogradOutput(orow, mrow, b.mStride, n, s.W, ep.scale[f], ep.shift[f], ep.slope, ep.act)
			}
		}
	}
}

// winogradInput is the portable input transform: V = B^T d B for the tiles
// of rows [ty0, ty1) of channel c, whose padded plane (even columns, then
// odd ones, in each row) starts x; tile t of the block goes to
// v[ξ*vStride + (t/nr*C + c)*nr + t%nr].
func winogradInput(v, x []float32, vStride, C, nr, c, n, ty0, ty1, rowLen int) {
	half := n + 1
	t := 0
	for ty := ty0; ty < ty1; ty++ {
		rows := x[2*ty*rowLen : (2*ty+4)*rowLen]
		for tx := 0; tx < n; tx, t = tx+1, t+1 {
			// d B, row by row: r_k = (d0 - d2, d1 + d2, d2 - d1, d1 - d3),
			// with d0..d3 = E[tx], O[tx], E[tx+1], O[tx+1] of row k.
			var r [4][4]float32
			for k := 0; k < 4; k++ {
				row := rows[k*rowLen : (k+1)*rowLen]
				e0, e1 := row[tx], row[tx+1]
				o0, o1 := row[half+tx], row[half+tx+1]
				r[k] = [4]float32{e0 - e1, o0 + e1, e1 - o0, o0 - o1}
			}
			// B^T (d B), column by column.
			off := (t/nr*C+c)*nr + t%nr
			for j := 0; j < 4; j++ {
				v[(0+j)*vStride+off] = r[0][j] - r[2][j]
				v[(4+j)*vStride+off] = r[1][j] + r[2][j]
				v[(8+j)*vStride+off] = r[2][j] - r[1][j]
				v[(12+j)*vStride+off] = r[1][j] - r[3][j]
			}
		}
	}
}

// winogradOutput is the portable output transform of one tile row of one
// filter: Y = A^T M A from m (16 values mStride apart per tile), then
// y*scale + shift and, with act, LeakyReLU, into two output rows of w.
func winogradOutput(out, m []float32, mStride, n, w int, scale, shift, slope float32, act bool) {
	factor := [2]float32{1, 1}
	if act {
		factor[1] = slope
	}
	row0, row1 := out[:w], out[w:2*w]
	for t := 0; t < n; t++ {
		var s, d [4]float32 // A^T M: rows 0 and 1, each 4 columns
		for j := 0; j < 4; j++ {
			m0, m1, m2, m3 := m[j*mStride+t], m[(4+j)*mStride+t], m[(8+j)*mStride+t], m[(12+j)*mStride+t]
			s[j] = m0 + m1 + m2
			d[j] = m1 - m2 - m3
		}
		y := [4]float32{s[0] + s[1] + s[2], s[1] - s[2] - s[3], d[0] + d[1] + d[2], d[1] - d[2] - d[3]}
		for i, v := range y {
			v = v*scale + shift
			y[i] = v * factor[math.Float32bits(v)>>31]
		}
		row0[2*t], row0[2*t+1], row1[2*t], row1[2*t+1] = y[0], y[1], y[2], y[3]
	}
}
