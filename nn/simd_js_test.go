//go:build js && wasm && !purego

package nn

import "syscall/js"

// The test runner (tools/wasmexec) loads the kernel as the app's loader
// does; switch to it as the app's glue (package wasm) does.
func init() {
	if js.Global().Get("sg2imSIMD").Truthy() {
		UseSIMDKernel()
	}
}
