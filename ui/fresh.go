//go:build js && wasm

package ui

import (
	"syscall/js"

	"github.com/sg2im-go/sg2im/protocol"
)

// freshEngine gives every model after the first its own engine worker. A
// worker's WebAssembly memory never shrinks: a model loaded into the
// worker of another would live beside what the other left, so switching
// models would only ever grow the page. The old worker is ended, with its
// requests in flight (the new model's load redraws).
func (c *client) freshEngine() {
	c.loads++
	if c.loads == 1 {
		return // the worker started with the page (perhaps preloading it)
	}
	c.worker.Call("terminate")
	c.h.release()
	c.pending = map[int]func(*protocol.Response){}
	c.ready, c.queued = false, nil
	c.worker = js.Global().Get("Worker").New(c.url)
	c.h.on(c.worker, "message", c.onMessage)
	c.h.on(c.worker, "error", c.onError)
}
