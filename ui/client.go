//go:build js && wasm

package ui

import (
	"encoding/json"
	"syscall/js"

	"github.com/sg2im-go/sg2im/protocol"
)

// client talks to the engine worker. Callbacks run on the JavaScript event
// loop's goroutine, one at a time.
type client struct {
	worker  js.Value
	nextID  int
	pending map[int]func(*protocol.Response)
	ready   bool
	queued  []func() // sends waiting for the engine to start
	onFatal func(string)
	h       handlers
	// For a fresh worker per model (fresh.go): the worker's script, the
	// loads so far, the listeners, and while a new worker loads, the one
	// that still draws and the load's request id.
	url                string
	loads              int
	onMessage, onError func(js.Value)
	stable             *engineWorker
	loadingID          int
}

func newClient(url string, onFatal func(string)) *client {
	c := &client{pending: map[int]func(*protocol.Response){}, onFatal: onFatal, url: url}
	// The page's bootstrap (web/main.js) may have started the worker
	// already, keeping the events that came before this code could listen.
	early := js.Global().Get("sg2imEngine")
	if early.Truthy() {
		js.Global().Delete("sg2imEngine")
		c.worker = early.Get("worker")
	} else {
		c.worker = js.Global().Get("Worker").New(url)
	}
	onMessage := func(ev js.Value) {
		var r protocol.Response
		if err := json.Unmarshal([]byte(ev.Get("data").Get("json").String()), &r); err != nil {
			c.onFatal("engine sent a bad message: " + err.Error())
			return
		}
		if r.Kind == protocol.KindReady {
			c.ready = true
			for _, send := range c.queued {
				send()
			}
			c.queued = nil
			return
		}
		if r.V != protocol.Version {
			c.onFatal("the engine is another version than the page; reload the page")
			return
		}
		cb := c.pending[r.ID]
		if cb == nil {
			if r.Kind == protocol.KindError {
				c.onFatal(r.Error)
			}
			return
		}
		if r.Kind != protocol.KindProgress {
			delete(c.pending, r.ID)
		}
		cb(&r)
	}
	onError := func(ev js.Value) {
		msg := "the engine failed to start"
		if m := ev.Get("message"); m.Type() == js.TypeString {
			msg += ": " + m.String()
		}
		c.onFatal(msg)
	}
	c.onMessage, c.onError = onMessage, onError
	c.h.on(c.worker, "message", onMessage)
	c.h.on(c.worker, "error", onError)
	if early.Truthy() {
		// Listening and taking the missed events happen in one task, so
		// none is lost or seen twice.
		early.Call("stop")
		missed := early.Get("missed")
		for i := 0; i < missed.Length(); i++ {
			ev := missed.Index(i)
			if ev.Get("type").String() == "error" {
				onError(ev)
			} else {
				onMessage(ev)
			}
		}
	}
	return c
}

// send posts a request and returns its id; cb gets progress and the
// final response. file, when valid, is a model's file (a Blob) that
// travels beside the JSON: a File is cloned as a reference to the file on
// disk, not as its bytes.
func (c *client) send(req protocol.Request, file js.Value, cb func(*protocol.Response)) int {
	c.nextID++
	req.V, req.ID = protocol.Version, c.nextID
	c.pending[req.ID] = cb
	do := func() {
		msg := js.Global().Get("Object").New()
		msg.Set("json", string(protocol.Encode(req)))
		if file.Truthy() {
			msg.Set("blob", file)
		}
		c.worker.Call("postMessage", msg)
	}
	if !c.ready {
		c.queued = append(c.queued, do)
		return req.ID
	}
	do()
	return req.ID
}
