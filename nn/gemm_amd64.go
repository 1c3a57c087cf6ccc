//go:build amd64 && !purego

package nn

// avx2Kernel is a 6 x 16 tile in assembly for CPUs with AVX2 and FMA: twelve
// 8-wide accumulators, two B vectors and one A broadcast use all sixteen
// YMM registers, and each step issues 12 FMAs for 2 loads and 6
// broadcasts. It runs near the FMA units' peak (~100 GFLOP/s per core on
// the 2-core AMD EPYC VM).
var avx2Kernel = gemmKernel{name: "avx2", mr: 6, nr: 16, tile: tileAVX2, tileRows: tileRowsAVX2, tileA: tileDirectAVX2,
	winoIn: winoInAVX2, winoInRows: winoInRowsAVX2, winoOut: winoOutAVX2, winoMinPixels: 8 * 8, winoMinPixelsFresh: 32 * 32}

func init() {
	if hasAVX2FMA() {
		addKernel(&avx2Kernel)
	}
}

func tileAVX2(kc int, a, b, dst []float32, ldc int, alpha, beta float32) {
	if kc < 1 || len(a) < 6*kc || len(b) < 16*kc || ldc < 16 || len(dst) < 5*ldc+16 {
		panic("nn: tileAVX2: operands too short")
	}
	tile6x16AVX2(kc, &a[0], &b[0], &dst[0], ldc, alpha, beta)
}

// tileRowsAVX2 checks the ends of rowOff only: the kernel contract asks
// for non-decreasing offsets.
func tileRowsAVX2(kc int, a, x []float32, rowOff []int, dst []float32, ldc int, alpha, beta float32) {
	if kc < 1 || len(a) < 6*kc || len(rowOff) < kc || rowOff[0] < 0 || rowOff[kc-1] > len(x)-16 ||
		ldc < 16 || len(dst) < 5*ldc+16 {
		panic("nn: tileRowsAVX2: operands too short")
	}
	tile6x16RowsAVX2(kc, &a[0], &x[0], &rowOff[0], &dst[0], ldc, alpha, beta)
}

func tileDirectAVX2(kc int, a []float32, lda int, b, dst []float32, ldc int, alpha, beta float32) {
	if kc < 1 || lda < kc || len(a) < 5*lda+kc || len(b) < 16*kc || ldc < 16 || len(dst) < 5*ldc+16 {
		panic("nn: tileDirectAVX2: operands too short")
	}
	tile6x16DirectAVX2(kc, &a[0], lda, &b[0], &dst[0], ldc, alpha, beta)
}

//go:noescape
func tile6x16DirectAVX2(kc int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func tile6x16RowsAVX2(kc int, a, x *float32, rowOff *int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func tile6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

func xgetbv0() (eax uint32)

// hasAVX2FMA reports whether the CPU has AVX2 and FMA and the OS saves the
// YMM registers (Intel SDM vol. 1, 14.3).
func hasAVX2FMA() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xgetbv0()&6 != 6 { // XMM and YMM state enabled
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}

func winoInAVX2(rows []float32, rowLen, oOff int, dst []float32, xiStride, srcStep, dstStep, count int) {
	winoInHalfAVX2(rows, rowLen, oOff, 8, dst, xiStride, srcStep, dstStep, count)
}

// winoInRowsAVX2 is winoInAVX2 for rows of 8 tiles (16 pixels): tiles 8-15
// of a run are the next tile row's, two padded rows on.
func winoInRowsAVX2(rows []float32, rowLen, oOff int, dst []float32, xiStride, srcStep, dstStep, count int) {
	winoInHalfAVX2(rows, rowLen, oOff, 2*rowLen, dst, xiStride, srcStep, dstStep, count)
}

// winoInHalfAVX2 transforms runs of 16 tiles whose tiles 8-15 are read
// half floats after tiles 0-7.
func winoInHalfAVX2(rows []float32, rowLen, oOff, half int, dst []float32, xiStride, srcStep, dstStep, count int) {
	if count < 1 {
		return
	}
	if srcStep < 0 || dstStep < 0 || oOff < 9 || half < 8 || len(rows) < (count-1)*srcStep+3*rowLen+oOff+half+9 ||
		len(dst) < 15*xiStride+(count-1)*dstStep+16 {
		panic("nn: winoInAVX2: operands too short")
	}
	winoInput(&rows[0], 4*rowLen, 4*oOff, &dst[0], 4*xiStride, 4*srcStep, 4*dstStep, count, 4*half)
}

func winoOutAVX2(m []float32, xiStride int, out []float32, rowLen, groups int, scale, shift, slope float32, act bool) {
	if groups < 1 {
		return
	}
	if len(m) < 15*xiStride+8*groups || rowLen < 16*groups || len(out) < rowLen+16*groups {
		panic("nn: winoOutAVX2: operands too short")
	}
	winoOutput(&m[0], 4*xiStride, &out[0], 4*rowLen, groups, scale, shift, slope, act)
}

//go:noescape
func winoInput(src *float32, rowStride, oOff int, dst *float32, xiStride, srcStep, dstStep, count, half int)

//go:noescape
func winoOutput(m *float32, xiStride int, dst *float32, dstRow int, groups int, scale, shift, slope float32, act bool)
