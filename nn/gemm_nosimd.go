//go:build !(js && wasm) || purego

package nn

// UseSIMDKernel reports that this build has no WebAssembly SIMD kernel
// (native builds pick their kernel themselves; purego runs the portable
// one).
func UseSIMDKernel() bool { return false }

// KernelThreads reports how many goroutines a product may use here
// (Threads); the WebAssembly SIMD build reports its helper threads.
func KernelThreads() int { return Threads() }

// ThreadsUsed reports Threads(): natively the products split over that
// many goroutines. The WebAssembly SIMD build reports the most threads a
// product used since the last call.
func ThreadsUsed() int { return Threads() }
