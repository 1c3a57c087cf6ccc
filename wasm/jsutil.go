//go:build js && wasm

// Package wasm runs the generator engine in a Web Worker: it receives
// protocol requests through postMessage and answers with responses.
package wasm

import "syscall/js"

// BytesFromJS copies a Uint8Array (or ArrayBuffer) into Go memory.
func BytesFromJS(v js.Value) []byte {
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		v = js.Global().Get("Uint8Array").New(v)
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}
