//go:build js && wasm

package ui

import (
	"fmt"
	"runtime/debug"
	"syscall/js"
)

var (
	document = js.Global().Get("document")
	window   = js.Global()
)

// attrs are element attributes; "class", "id", "for" and friends are plain
// attributes, set with setAttribute (never innerHTML).
type attrs map[string]string

// el builds an element with attributes and children: nodes, or strings
// that become text nodes (user text is never parsed as HTML).
func el(tag string, a attrs, children ...any) js.Value {
	n := document.Call("createElement", tag)
	for k, v := range a {
		n.Call("setAttribute", k, v)
	}
	appendChildren(n, children...)
	return n
}

// svgEl is el for the SVG namespace.
func svgEl(tag string, a attrs, children ...any) js.Value {
	n := document.Call("createElementNS", "http://www.w3.org/2000/svg", tag)
	for k, v := range a {
		n.Call("setAttribute", k, v)
	}
	appendChildren(n, children...)
	return n
}

func appendChildren(n js.Value, children ...any) {
	for _, c := range children {
		switch c := c.(type) {
		case js.Value:
			n.Call("appendChild", c)
		case string:
			n.Call("appendChild", document.Call("createTextNode", c))
		case []js.Value:
			for _, x := range c {
				n.Call("appendChild", x)
			}
		}
	}
}

func byID(id string) js.Value { return document.Call("getElementById", id) }

func clearNode(n js.Value) {
	for n.Get("firstChild").Truthy() {
		n.Call("removeChild", n.Get("firstChild"))
	}
}

func setText(n js.Value, s string) { n.Set("textContent", s) }

// handlers owns js.Funcs so that a view can release them when it rebuilds
// its nodes; the gomlx wasm example keeps such functions alive the same way.
type handlers struct{ fns []js.Func }

// on registers a listener on n; f gets the event.
func (h *handlers) on(n js.Value, event string, f func(ev js.Value)) {
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		var ev js.Value
		if len(args) > 0 {
			ev = args[0]
		}
		guard(func() { f(ev) })
		return nil
	})
	h.fns = append(h.fns, fn)
	n.Call("addEventListener", event, fn)
}

// guard runs a callback from JavaScript. A panic there would end the Go
// program and leave a dead page without a word; instead the user is told
// in the status line, the details go to the console for a bug report, and
// the page keeps working.
func guard(f func()) {
	defer func() {
		if r := recover(); r != nil {
			window.Get("console").Call("error", "sg2im: a page action failed:", fmt.Sprint(r), string(debug.Stack()))
			if st := byID(IDStatus); st.Truthy() {
				setText(st, "Something went wrong with that action, and it was not completed. "+
					"Your scene is kept; try again, or reload the page if it keeps happening.")
			}
		}
	}()
	f()
}

// release frees every function registered so far.
func (h *handlers) release() {
	for _, f := range h.fns {
		f.Release()
	}
	h.fns = h.fns[:0]
}

// storageGet reads localStorage, "" when absent or unavailable.
func storageGet(key string) string {
	ls := window.Get("localStorage")
	if !ls.Truthy() {
		return ""
	}
	v := ls.Call("getItem", key)
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

func storageSet(key, value string) {
	if ls := window.Get("localStorage"); ls.Truthy() {
		ls.Call("setItem", key, value)
	}
}

// putPixels draws RGBA bytes into a canvas of w x h.
func putPixels(canvas js.Value, rgba []byte, w, h int) {
	canvas.Set("width", w)
	canvas.Set("height", h)
	ctx := canvas.Call("getContext", "2d")
	arr := js.Global().Get("Uint8ClampedArray").New(len(rgba))
	js.CopyBytesToJS(arr, rgba)
	img := js.Global().Get("ImageData").New(arr, w, h)
	ctx.Call("putImageData", img, 0, 0)
}

// saveBytes offers bytes as a download named name.
func saveBytes(name, mime string, data []byte) {
	arr := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(arr, data)
	opts := js.Global().Get("Object").New()
	opts.Set("type", mime)
	blob := js.Global().Get("Blob").New([]any{arr}, opts)
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	a := el("a", attrs{"href": url.String(), "download": name})
	document.Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	js.Global().Get("URL").Call("revokeObjectURL", url)
}
