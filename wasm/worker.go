//go:build js && wasm

package wasm

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"syscall/js"

	"github.com/sg2im-go/sg2im/engine"
	"github.com/sg2im-go/sg2im/internal/jsutil"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
)

// maxModelBytes bounds a model download (the release's vg128 is ~500 MB
// as a legacy pickle; browsers cope poorly beyond that).
const maxModelBytes = 1 << 30

// message is a request as it arrived: JSON and optional bytes.
type message struct {
	json  string
	bytes js.Value
}

// queue hands messages from the JavaScript callback, which must not block,
// to the engine goroutine, in order.
type queue struct {
	mu     sync.Mutex
	items  []message
	notify chan struct{}
}

func (q *queue) push(m message) {
	q.mu.Lock()
	q.items = append(q.items, m)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *queue) pop() message {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			m := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			return m
		}
		q.mu.Unlock()
		<-q.notify
	}
}

// newerReplaceable says whether a replaceable generate request waits in the
// queue: one that makes an earlier replaceable request stale.
func (q *queue) newerReplaceable() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range q.items {
		if r, err := protocol.DecodeRequest([]byte(m.json)); err == nil && r.Kind == protocol.KindGenerate && r.Generate.Replaceable {
			return true
		}
	}
	return false
}

// yieldToEvents lets the event loop deliver the messages waiting for it:
// it waits for a message of its own, posted now on a MessageChannel, which
// queues behind the page's messages already waiting (a timer would not:
// browsers may run timers first).
func yieldToEvents() {
	var fn js.Func
	fn = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch := js.Global().Get("MessageChannel").New()
		ch.Get("port1").Set("onmessage", args[0])
		ch.Get("port2").Call("postMessage", js.Null())
		return nil
	})
	jsutil.Await(js.Global().Get("Promise").New(fn))
	fn.Release()
}

// ServeWorker answers requests posted to this worker until the page goes.
func ServeWorker() {
	self := js.Global()
	q := &queue{notify: make(chan struct{}, 1)}
	onMessage := js.FuncOf(func(_ js.Value, args []js.Value) any {
		data := args[0].Get("data")
		q.push(message{json: data.Get("json").String(), bytes: data.Get("bytes")})
		return nil
	})
	self.Set("onmessage", onMessage)
	post(protocol.Response{Kind: protocol.KindReady})
	var e engine.Engine
	preloaded := preload(&e, self.Get("name"))
	for {
		m := q.pop()
		handle(&e, m, &preloaded, q.newerReplaceable)
	}
}

// preloadPrefix in the worker's name ("preload:" + URL) has the engine
// download and load that model as soon as it starts, before the page has
// asked: the app's page starts its worker that way (web/main.js), so that
// the download overlaps the page's own start. preload returns the URL,
// or "" when there was none or it failed (the page's own load request
// then reports why).
const preloadPrefix = "preload:"

func preload(e *engine.Engine, name js.Value) string {
	if name.Type() != js.TypeString || !strings.HasPrefix(name.String(), preloadPrefix) {
		return ""
	}
	url := strings.TrimPrefix(name.String(), preloadPrefix)
	data, err := download(-1, url)
	if err != nil {
		return ""
	}
	if _, err := e.Load(url, data); err != nil {
		return ""
	}
	return url
}

// post sends a response to the page.
func post(r protocol.Response) {
	r.V = protocol.Version
	msg := js.Global().Get("Object").New()
	msg.Set("json", string(protocol.Encode(r)))
	js.Global().Call("postMessage", msg)
}

func postError(id int, field string, err error) {
	post(protocol.Response{ID: id, Kind: protocol.KindError, Error: err.Error(), Field: field})
}

// postInputError reports a bad request, placed at its field and index when
// the engine or the decoder knows them.
func postInputError(id int, err error) {
	r := protocol.Response{ID: id, Kind: protocol.KindError, Error: err.Error()}
	var ie *engine.InputError
	var ge *model.GraphError
	switch {
	case errors.As(err, &ie):
		r.Field = ie.Field
		if ie.Index >= 0 {
			r.Index = &ie.Index
		}
	case errors.As(err, &ge):
		r.Field = ge.Field
		if ge.Index >= 0 {
			r.Index = &ge.Index
		}
	}
	post(r)
}

// handle answers one request; a panic becomes an error response, so one
// bad request cannot kill the engine.
func handle(e *engine.Engine, m message, preloaded *string, newer func() bool) {
	id := 0
	defer func() {
		if r := recover(); r != nil {
			postError(id, "", fmt.Errorf("internal error: %v\n%s", r, debug.Stack()))
		}
	}()
	req, err := protocol.DecodeRequest([]byte(m.json))
	if req != nil {
		id = req.ID
	}
	if err != nil {
		postInputError(id, err)
		return
	}
	switch req.Kind {
	case protocol.KindLoad:
		if req.Load.URL != "" && req.Load.URL == *preloaded {
			*preloaded = ""
			info := *e.Info()
			info.Name = req.Load.Name
			post(protocol.Response{ID: id, Kind: protocol.KindLoaded, Loaded: &info})
			return
		}
		*preloaded = "" // another model replaces it
		var data []byte
		if req.Load.URL != "" {
			data, err = download(id, req.Load.URL)
		} else if m.bytes.Truthy() {
			data = BytesFromJS(m.bytes)
		} else {
			err = fmt.Errorf("load request has neither a URL nor bytes")
		}
		if err != nil {
			postError(id, "model", err)
			return
		}
		info, err := e.Load(req.Load.Name, data)
		if err != nil {
			postError(id, "model", err)
			return
		}
		post(protocol.Response{ID: id, Kind: protocol.KindLoaded, Loaded: info})
	case protocol.KindGenerate:
		if req.Generate.Replaceable {
			// Messages that came while the last request ran are still
			// undelivered events: let them in, then see if one replaces this.
			yieldToEvents()
		}
		if req.Generate.Replaceable && newer() {
			post(protocol.Response{ID: id, Kind: protocol.KindCancelled})
			return
		}
		res, err := e.Generate(req.Generate)
		if err != nil {
			postInputError(id, err)
			return
		}
		post(protocol.Response{ID: id, Kind: protocol.KindImages, Images: res})
	case protocol.KindBench:
		res, err := e.Bench(req.Bench, func(phase string, done, total int64) {
			post(protocol.Response{ID: id, Kind: protocol.KindProgress, Progress: &protocol.Progress{Loaded: done, Total: total, Phase: phase}})
		})
		if err != nil {
			postError(id, "", err)
			return
		}
		post(protocol.Response{ID: id, Kind: protocol.KindBench, Bench: res})
	}
}

// download fetches url, posting progress for request id (none when id < 0)
// as the body streams in.
func download(id int, url string) ([]byte, error) {
	resp, err := jsutil.Await(js.Global().Call("fetch", url))
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %v (is the server running, or the page cached for offline use?)", url, err)
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("downloading %s: HTTP %d %s", url, resp.Get("status").Int(), resp.Get("statusText").String())
	}
	if id < 0 {
		// No progress to show: the whole body in one step, not a Go-to-JS
		// round trip per chunk.
		ab, err := jsutil.Await(resp.Call("arrayBuffer"))
		if err != nil {
			return nil, fmt.Errorf("downloading %s: %v", url, err)
		}
		if n := ab.Get("byteLength").Int(); int64(n) > maxModelBytes {
			return nil, fmt.Errorf("downloading %s: larger than %d bytes", url, maxModelBytes)
		}
		return BytesFromJS(ab), nil
	}
	var total int64
	if cl := resp.Get("headers").Call("get", "Content-Length"); cl.Type() == js.TypeString {
		fmt.Sscan(cl.String(), &total)
	}
	// A gzip- or br-encoded response reports the compressed length; the
	// bytes read are decompressed, so only trust Content-Length without one.
	if enc := resp.Get("headers").Call("get", "Content-Encoding"); enc.Type() == js.TypeString && strings.TrimSpace(enc.String()) != "" {
		total = 0
	}
	reader := resp.Get("body").Call("getReader")
	var buf []byte
	if total > 0 && total <= maxModelBytes {
		buf = make([]byte, 0, total)
	}
	for {
		chunk, err := jsutil.Await(reader.Call("read"))
		if err != nil {
			return nil, fmt.Errorf("downloading %s: %v", url, err)
		}
		if chunk.Get("done").Bool() {
			break
		}
		v := chunk.Get("value")
		n := v.Get("length").Int()
		if int64(len(buf)+n) > maxModelBytes {
			reader.Call("cancel")
			return nil, fmt.Errorf("downloading %s: larger than %d bytes", url, maxModelBytes)
		}
		start := len(buf)
		buf = append(buf, make([]byte, n)...)
		js.CopyBytesToGo(buf[start:], v)
		if id >= 0 {
			post(protocol.Response{ID: id, Kind: protocol.KindProgress, Progress: &protocol.Progress{Loaded: int64(len(buf)), Total: total}})
		}
	}
	return buf, nil
}
