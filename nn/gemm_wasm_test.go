//go:build js && wasm && !purego

package nn

import (
	"os"
	"testing"
)

// The test runner (tools/wasmexec) must hand the SIMD tile to the build,
// or its tests would silently cover the portable tile only.
func TestSIMDKernelActive(t *testing.T) {
	if os.Getenv("SG2IM_SIMD") == "0" {
		t.Skip("SG2IM_SIMD=0: the portable tile is expected")
	}
	if got := GemmKernel(); got != "wasm-simd" {
		t.Fatalf("GemmKernel() = %q under GOOS=js, want wasm-simd: run the tests with -exec tools/wasmexec/exec", got)
	}
}
