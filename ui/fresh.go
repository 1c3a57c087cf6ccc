//go:build js && wasm

package ui

import (
	"syscall/js"

	"github.com/sg2im-go/sg2im/protocol"
)

// A fresh engine worker for every model after the first. A worker's
// WebAssembly memory never shrinks: a model loaded into the worker of
// another would live beside what the other left, so switching models would
// only ever grow the page. The new worker loads the model while the old
// one still draws; the old one ends when the new model is in, and stays
// (the new one ends) when it cannot be loaded.

// engineWorker is a worker and the listeners on it.
type engineWorker struct {
	w js.Value
	h handlers
}

// sendLoad sends a load request, to a new worker unless it is the first.
func (c *client) sendLoad(req protocol.Request, file js.Value, cb func(*protocol.Response)) {
	c.loads++
	if c.loads == 1 {
		c.send(req, file, cb) // the worker started with the page, perhaps preloading it
		return
	}
	if c.stable != nil {
		// A load still in flight is given up: its worker ends unheard.
		c.worker.Call("terminate")
		c.h.release()
		delete(c.pending, c.loadingID)
	} else {
		c.stable = &engineWorker{w: c.worker, h: c.h}
	}
	c.worker, c.h = js.Global().Get("Worker").New(c.url), handlers{}
	c.ready, c.queued = false, nil
	c.h.on(c.worker, "message", c.onMessage)
	c.h.on(c.worker, "error", c.onError)
	c.loadingID = c.send(req, file, func(r *protocol.Response) {
		switch r.Kind {
		case protocol.KindProgress:
		case protocol.KindError: // back to the worker that still has a model
			c.worker.Call("terminate")
			c.h.release()
			c.worker, c.h, c.ready, c.queued = c.stable.w, c.stable.h, true, nil
			c.stable = nil
		default:
			c.stable.w.Call("terminate")
			c.stable.h.release()
			c.stable = nil
		}
		cb(r)
	})
}
