package nn

// genericKernel is the portable tile, the one WebAssembly runs: 2 x 6
// scalar accumulators. With the two values of A and one of B live at a
// time they fit the 16 float registers of Go's amd64 back end, and they
// measured fastest of 4x4, 3x4, 2x8 and 2x6 tiles both natively (~3.6
// GFLOP/s a core, twice the 4x4 tile, which spilled) and compiled to
// WebAssembly in Node 20 (~3 GFLOP/s).
var genericKernel = gemmKernel{name: "generic", mr: 2, nr: 6, tile: tileGeneric, winoMinPixels: 16 * 16}

// tileGeneric is gemmKernel.tile for mr = 2, nr = 6. The loop reslices a
// and b so that the compiler proves every index in range.
func tileGeneric(kc int, a, b, dst []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03, c04, c05, c10, c11, c12, c13, c14, c15 float32
	a, b = a[:2*kc], b[:6*kc]
	for len(a) >= 2 && len(b) >= 6 {
		a0, a1 := a[0], a[1]
		bj := b[0]
		c00 += a0 * bj
		c10 += a1 * bj
		bj = b[1]
		c01 += a0 * bj
		c11 += a1 * bj
		bj = b[2]
		c02 += a0 * bj
		c12 += a1 * bj
		bj = b[3]
		c03 += a0 * bj
		c13 += a1 * bj
		bj = b[4]
		c04 += a0 * bj
		c14 += a1 * bj
		bj = b[5]
		c05 += a0 * bj
		c15 += a1 * bj
		a, b = a[2:], b[6:]
	}
	storeRow6(dst[:6], c00, c01, c02, c03, c04, c05, alpha, beta)
	storeRow6(dst[ldc:ldc+6], c10, c11, c12, c13, c14, c15, alpha, beta)
}

func storeRow6(d []float32, v0, v1, v2, v3, v4, v5, alpha, beta float32) {
	d = d[:6]
	if beta == 0 {
		d[0], d[1], d[2], d[3], d[4], d[5] = alpha*v0, alpha*v1, alpha*v2, alpha*v3, alpha*v4, alpha*v5
		return
	}
	d[0] = alpha*v0 + beta*d[0]
	d[1] = alpha*v1 + beta*d[1]
	d[2] = alpha*v2 + beta*d[2]
	d[3] = alpha*v3 + beta*d[3]
	d[4] = alpha*v4 + beta*d[4]
	d[5] = alpha*v5 + beta*d[5]
}
