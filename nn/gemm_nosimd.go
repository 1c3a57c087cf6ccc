//go:build !(js && wasm) || purego

package nn

// UseSIMDKernel reports that this build has no WebAssembly SIMD kernel
// (native builds pick their kernel themselves; purego runs the portable
// one).
func UseSIMDKernel() bool { return false }
