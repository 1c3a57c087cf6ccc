//go:build js && wasm

package wasm

import (
	"syscall/js"

	"github.com/sg2im-go/sg2im/nn"
)

// The loader (web/load.js) sets globalThis.sg2imSIMD once it has
// instantiated web/kernel.wasm on this module's memory, before the Go
// program starts; only then may nn call into it.
func init() {
	if js.Global().Get("sg2imSIMD").Truthy() {
		nn.UseSIMDKernel()
	}
}
