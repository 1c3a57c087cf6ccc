//go:build js && wasm

// Command sg2im-web is the browser app's one WebAssembly binary: started
// by the page it runs the editor, started in a Web Worker it runs the
// generator engine.
package main

import (
	"syscall/js"

	"github.com/sg2im-go/sg2im/ui"
	"github.com/sg2im-go/sg2im/wasm"
)

func main() {
	if js.Global().Get("document").IsUndefined() {
		wasm.ServeWorker()
		return
	}
	ui.Run()
}
