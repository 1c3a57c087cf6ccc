//go:build js && wasm && !purego

package nn

import (
	"runtime"
	"sync"
)

// parPackMax bounds the packed B of gemmList (floats); a larger B takes
// gemmWork.block's blocked loop nest.
const parPackMax = 1 << 22

// gemmList computes the product's full tiles through a kernel command and
// its partial tiles (the last rows and columns, when m or n is not a
// multiple of the tile) with gemmWork.block, and reports whether it could:
// A must be stored row by row (the tiles read it in place) and B be a
// convolution that the tiles read in place or small enough to pack whole.
func (w *gemmWork) gemmList() bool {
	mr, nr := w.kern.mr, w.kern.nr
	if w.a.trans || w.m < mr || w.n < nr {
		return false
	}
	mFull, nFull := w.m/mr*mr, w.n/nr*nr
	src := w.b.conv
	inPlace := src != nil && src.stride == 1 && src.outW%nr == 0
	var packed []float32
	if !inPlace {
		if nFull*w.k > parPackMax {
			return false
		}
		bufp := packBufs.Get().(*[]float32)
		defer packBufs.Put(bufp)
		*bufp = grow(*bufp, nFull*w.k)
		packed = *bufp
		if src != nil {
			src.pack(packed, nr, 0, w.k, 0, nFull, false)
		} else {
			w.packB(packed, 0, w.k, 0, nFull)
		}
	}
	var scale, shift []float32
	if w.epi != nil {
		scale, shift, _, _ = epilogueRow(w.epi, w.m)
	}
	b := newBatch()
	tilesM, tilesN := mFull/mr, nFull/nr
	cols := min(tilesN, max(1, w.bl.nc/nr))
	colBlocks := (tilesN + cols - 1) / cols
	rows := min(max(1, w.bl.mc/mr), max(1, (tilesM*colBlocks+parJobs()-1)/parJobs()))
	for t0 := 0; t0 < tilesM; t0 += rows {
		for u0 := 0; u0 < tilesN; u0 += cols {
			w.listJob(b, t0, min(tilesM, t0+rows), u0, min(tilesN, u0+cols), packed, scale, shift)
			b.endJob()
		}
	}
	b.run(2 * float64(mFull) * float64(nFull) * float64(w.k))
	runtime.KeepAlive(packed)
	runtime.KeepAlive(scale)
	runtime.KeepAlive(shift)
	if mFull < w.m {
		w.block(mFull, w.m, 0, w.n)
	}
	if nFull < w.n {
		w.block(0, mFull, nFull, w.n)
	}
	return true
}

var packBufs = sync.Pool{New: func() any { return new([]float32) }}

// listJob records the tiles of row tiles [t0, t1) and column tiles [u0,
// u1), kc-step by kc-step as block does, then their epilogue.
func (w *gemmWork) listJob(b *parBatch, t0, t1, u0, u1 int, packed, scale, shift []float32) {
	mr, nr, kc := w.kern.mr, w.kern.nr, w.bl.kc
	lda := uint32(4 * w.a.ld)
	for pc := 0; pc < w.k; pc += kc {
		k := min(kc, w.k-pc)
		beta := w.beta
		if pc > 0 {
			beta = 1
		}
		for t := t0; t < t1; t++ {
			i := t * mr
			a := w.a.data[i*w.a.ld+pc:]
			checkTileA(k, a, w.a.ld)
			if packed != nil {
				w.listRuns(b, i, u0, u1, pc, k, a, packed, beta)
				continue
			}
			for u := u0; u < u1; u++ {
				j := u * nr
				c := w.dst[w.dstOff(i, j):]
				checkTileC(c, w.ldc)
				src := w.b.conv
				x := src.run(j, nr)
				checkTileRows(k, x, src.rowOff[pc:])
				b.rec(opTileAR, uint32(k), addr(a), lda, addr(x), addr(src.rowOff[pc:]), addr(c), uint32(w.ldc), f32(w.alpha), f32(beta))
			}
		}
	}
	if scale == nil {
		return
	}
	act := uint32(0)
	if w.epi.Act {
		act = 1
	}
	for t := t0; t < t1; t++ {
		i := t * mr
		for u := u0; u < u1; u++ {
			c := w.dst[w.dstOff(i, u*nr):]
			b.rec(opEpi, addr(c), uint32(w.ldc), addr(scale[i:i+mr]), addr(shift[i:i+mr]), f32(w.epi.Slope), act)
		}
	}
}

// listRuns records the tiles at row i, columns tiles [u0, u1), kc-step
// pc of k, reading A in place at a and B packed, as runs of tiles whose
// C is contiguous (one run unless the columns span images, imgCols).
func (w *gemmWork) listRuns(b *parBatch, i, u0, u1, pc, k int, a, packed []float32, beta float32) {
	nr := w.kern.nr
	for u := u0; u < u1; {
		v := u + 1
		for v < u1 && w.dstOff(i, v*nr) == w.dstOff(i, (v-1)*nr)+nr {
			v++
		}
		// First and last tile checked; the run steps evenly between.
		p := packed[u*nr*w.k+pc*nr:][:k*nr]
		_ = packed[(v-1)*nr*w.k+pc*nr:][:k*nr]
		c := w.dst[w.dstOff(i, u*nr):]
		checkTileC(c, w.ldc)
		checkTileC(w.dst[w.dstOff(i, (v-1)*nr):], w.ldc)
		b.rec(opTilesA, uint32(k), addr(a), uint32(4*w.a.ld), addr(p), uint32(4*nr*w.k), addr(c), uint32(4*nr),
			uint32(w.ldc), f32(w.alpha), f32(beta), uint32(v-u))
		u = v
	}
}

// The checks of a tile's operands, before their addresses are recorded:
// the kernel reads and writes memory unchecked.

func checkTileA(kc int, a []float32, lda int) {
	if kc < 1 || lda < kc || len(a) < 5*lda+kc {
		panic("nn: tile: A too short")
	}
}

func checkTileC(c []float32, ldc int) {
	if ldc < 8 || len(c) < 5*ldc+8 {
		panic("nn: tile: C too short")
	}
}

func checkTileRows(kc int, x []float32, rowOff []int) {
	if x == nil || len(rowOff) < kc || rowOff[0] < 0 || rowOff[kc-1] > len(x)-8 {
		panic("nn: tile: B's rows out of range")
	}
}
