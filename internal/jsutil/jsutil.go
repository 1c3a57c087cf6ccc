//go:build js && wasm

// Package jsutil holds what the page (ui) and the worker (wasm) share on
// syscall/js: waiting for a promise.
package jsutil

import (
	"errors"
	"syscall/js"
)

// Await blocks the calling goroutine, never the event loop's, until a
// JavaScript promise settles. The JavaScript event loop keeps running
// meanwhile.
func Await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var onOK, onErr js.Func
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg0(args)}
		return nil
	})
	onErr = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: Error(arg0(args))}
		return nil
	})
	p.Call("then", onOK, onErr)
	r := <-ch
	onOK.Release()
	onErr.Release()
	return r.v, r.err
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// Error turns a thrown or rejected JavaScript value into an error: an
// Error's message, a string as it is, anything else "failed" (undefined
// has no words to show).
func Error(v js.Value) error {
	switch {
	case v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString:
		return errors.New(v.Get("message").String())
	case v.Type() == js.TypeString:
		return errors.New(v.String())
	}
	return errors.New("failed")
}
