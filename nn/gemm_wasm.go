//go:build js && wasm && !purego

package nn

import "unsafe"

// simdKernel is a 6 x 8 tile and the Winograd transforms in WebAssembly's
// 128-bit SIMD (web/kernel.wasm, written by tools/wasmkernel, since the Go
// compiler emits no SIMD): the tile runs at ~18 GFLOP/s a core in V8
// against ~2.3 for the portable one. The loader (web/load.js;
// tools/wasmexec for tests) instantiates the kernel on this module's
// memory, passes its exports as the imports of module sg2im and sets
// globalThis.sg2imSIMD when that worked; the wasm glue (package wasm) then
// calls UseSIMDKernel. Without it the portable kernel runs.
//
// The products and Winograd's blocks go through the kernel's command lists
// (par_wasm.go), on helper threads when the loader has them; the tiles
// below are called one by one only for the partial tiles at the edges.
var simdKernel = gemmKernel{name: "wasm-simd", mr: 6, nr: 8, tile: tileSIMD, tileRows: tileRowsSIMD, tileA: tileDirectSIMD,
	winoIn: winoInSIMD, winoOut: winoOutSIMD, winoMinPixels: 16 * 16,
	list: (*gemmWork).gemmList, winoList: winogradList}

// UseSIMDKernel switches the matrix products to the SIMD kernel; call it
// only when the loader has instantiated web/kernel.wasm, since the
// kernel's imports call into it. It reports whether this build has one.
func UseSIMDKernel() bool {
	if activeKernel != &simdKernel {
		addKernel(&simdKernel)
		initThreads()
	}
	return true
}

// The imports take addresses in the linear memory that Go and the kernel
// share: Go's collector does not move objects, and the calls are
// synchronous. Sizes are in bytes unless named kc, ldc, count or groups.

//go:wasmimport sg2im tile
func wasmTile(kc int32, a, b, c unsafe.Pointer, ldc int32, alpha, beta float32)

//go:wasmimport sg2im tileRows
func wasmTileRows(kc int32, a, x, rowOff, c unsafe.Pointer, ldc int32, alpha, beta float32)

//go:wasmimport sg2im tileA
func wasmTileA(kc int32, a unsafe.Pointer, lda int32, b, c unsafe.Pointer, ldc int32, alpha, beta float32)

//go:wasmimport sg2im winoIn
func wasmWinoIn(rows unsafe.Pointer, rowLen, oOff int32, dst unsafe.Pointer, xiStride, srcStep, dstStep, count int32)

//go:wasmimport sg2im winoOut
func wasmWinoOut(m unsafe.Pointer, xiStride int32, out unsafe.Pointer, rowLen, groups int32, scale, shift, slope float32, act int32)

func tileSIMD(kc int, a, b, dst []float32, ldc int, alpha, beta float32) {
	if kc < 1 || len(a) < 6*kc || len(b) < 8*kc || ldc < 8 || len(dst) < 5*ldc+8 {
		panic("nn: tileSIMD: operands too short")
	}
	wasmTile(int32(kc), unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&dst[0]), int32(ldc), alpha, beta)
}

// tileRowsSIMD checks the ends of rowOff only: the kernel contract asks
// for non-decreasing offsets.
func tileRowsSIMD(kc int, a, x []float32, rowOff []int, dst []float32, ldc int, alpha, beta float32) {
	if kc < 1 || len(a) < 6*kc || len(rowOff) < kc || rowOff[0] < 0 || rowOff[kc-1] > len(x)-8 ||
		ldc < 8 || len(dst) < 5*ldc+8 {
		panic("nn: tileRowsSIMD: operands too short")
	}
	wasmTileRows(int32(kc), unsafe.Pointer(&a[0]), unsafe.Pointer(&x[0]), unsafe.Pointer(&rowOff[0]),
		unsafe.Pointer(&dst[0]), int32(ldc), alpha, beta)
}

func tileDirectSIMD(kc int, a []float32, lda int, b, dst []float32, ldc int, alpha, beta float32) {
	if kc < 1 || lda < kc || len(a) < 5*lda+kc || len(b) < 8*kc || ldc < 8 || len(dst) < 5*ldc+8 {
		panic("nn: tileDirectSIMD: operands too short")
	}
	wasmTileA(int32(kc), unsafe.Pointer(&a[0]), int32(4*lda), unsafe.Pointer(&b[0]), unsafe.Pointer(&dst[0]), int32(ldc), alpha, beta)
}

func winoInSIMD(rows []float32, rowLen, oOff int, dst []float32, xiStride, srcStep, dstStep, count int) {
	if count < 1 {
		return
	}
	if srcStep < 0 || dstStep < 0 || oOff < 9 || len(rows) < (count-1)*srcStep+3*rowLen+oOff+9 ||
		len(dst) < 15*xiStride+(count-1)*dstStep+8 {
		panic("nn: winoInSIMD: operands too short")
	}
	wasmWinoIn(unsafe.Pointer(&rows[0]), int32(4*rowLen), int32(4*oOff), unsafe.Pointer(&dst[0]),
		int32(4*xiStride), int32(4*srcStep), int32(4*dstStep), int32(count))
}

func winoOutSIMD(m []float32, xiStride int, out []float32, rowLen, groups int, scale, shift, slope float32, act bool) {
	if groups < 1 {
		return
	}
	if len(m) < 15*xiStride+8*groups || rowLen < 16*groups || len(out) < rowLen+16*groups {
		panic("nn: winoOutSIMD: operands too short")
	}
	a := int32(0)
	if act {
		a = 1
	}
	wasmWinoOut(unsafe.Pointer(&m[0]), int32(4*xiStride), unsafe.Pointer(&out[0]), int32(4*rowLen), int32(groups),
		scale, shift, slope, a)
}
