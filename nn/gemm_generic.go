package nn

// genericKernel is the portable tile, the one WebAssembly runs: a 4 x 4
// block of scalar accumulators, which with the 8 operands of one step fits
// the 16 float registers that Go's amd64 and wasm back ends allocate.
var genericKernel = gemmKernel{name: "generic", mr: 4, nr: 4, tile: tileGeneric}

// tileGeneric is gemmKernel.tile for mr = nr = 4. The loop reslices a and b
// so that the compiler proves every index in range.
func tileGeneric(kc int, a, b, dst []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	a, b = a[:4*kc], b[:4*kc]
	for len(a) >= 4 && len(b) >= 4 {
		a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		a, b = a[4:], b[4:]
	}
	storeRow4(dst[0*ldc:], c00, c01, c02, c03, alpha, beta)
	storeRow4(dst[1*ldc:], c10, c11, c12, c13, alpha, beta)
	storeRow4(dst[2*ldc:], c20, c21, c22, c23, alpha, beta)
	storeRow4(dst[3*ldc:], c30, c31, c32, c33, alpha, beta)
}

func storeRow4(d []float32, v0, v1, v2, v3, alpha, beta float32) {
	d = d[:4]
	if beta == 0 {
		d[0], d[1], d[2], d[3] = alpha*v0, alpha*v1, alpha*v2, alpha*v3
		return
	}
	d[0] = alpha*v0 + beta*d[0]
	d[1] = alpha*v1 + beta*d[1]
	d[2] = alpha*v2 + beta*d[2]
	d[3] = alpha*v3 + beta*d[3]
}
