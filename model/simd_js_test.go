//go:build js && wasm && !purego

package model

import (
	"os"
	"syscall/js"
	"testing"

	"github.com/sg2im-go/sg2im/nn"
)

// The parity tests run on the SIMD kernel when the test runner
// (tools/wasmexec) loaded it, as the app's glue (package wasm) switches.
func init() {
	if js.Global().Get("sg2imSIMD").Truthy() {
		nn.UseSIMDKernel()
	}
}

func TestParityRunsOnSIMD(t *testing.T) {
	if os.Getenv("SG2IM_SIMD") == "0" {
		t.Skip("SG2IM_SIMD=0: the portable kernel is expected")
	}
	if got := nn.GemmKernel(); got != "wasm-simd" {
		t.Fatalf("GemmKernel() = %q, want wasm-simd: run the tests with -exec tools/wasmexec/exec", got)
	}
}
