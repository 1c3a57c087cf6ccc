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

// maxModelBytes bounds a model file, downloaded or picked (the release's
// vg128 is ~500 MB as a legacy pickle; browsers cope poorly beyond that).
const maxModelBytes = 1 << 30

// wholeModelBytes is the size up to which a model file is read into
// memory at once: one round trip to JavaScript for the shipped model,
// where reading a range at a time would take dozens.
const wholeModelBytes = 32 << 20

// message is a request as it arrived: JSON and an optional model file,
// as a Blob (blob) or bytes.
type message struct {
	json        string
	blob, bytes js.Value
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
		q.push(message{json: data.Get("json").String(), blob: data.Get("blob"), bytes: data.Get("bytes")})
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
	blob, err := download(-1, url)
	if err != nil {
		return ""
	}
	if _, err := loadFile(e, url, blob); err != nil {
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
		info, err := loadRequested(e, id, req.Load, m)
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

// loadRequested loads the model a request names: downloaded from its URL,
// or the file (a Blob) or bytes sent with it.
func loadRequested(e *engine.Engine, id int, req *protocol.LoadRequest, m message) (*protocol.ModelInfo, error) {
	switch {
	case req.URL != "":
		file, err := download(id, req.URL)
		if err != nil {
			return nil, err
		}
		return loadFile(e, req.Name, file)
	case m.blob.Truthy():
		return loadFile(e, req.Name, m.blob)
	case m.bytes.Truthy():
		return e.Load(req.Name, BytesFromJS(m.bytes))
	}
	return nil, fmt.Errorf("load request has neither a URL nor a file")
}

// loadFile loads the model in file, a Blob or an ArrayBuffer: a Blob a
// range at a time, or at once when it is small.
func loadFile(e *engine.Engine, name string, file js.Value) (*protocol.ModelInfo, error) {
	whole := file.InstanceOf(js.Global().Get("ArrayBuffer"))
	var size int64
	if whole {
		size = int64(file.Get("byteLength").Float())
	} else {
		size = int64(file.Get("size").Float())
	}
	if size > maxModelBytes {
		return nil, fmt.Errorf("%s: the file has %.0f MB, more than the %.0f MB a model may have in the browser", name, float64(size)/1e6, float64(maxModelBytes)/1e6)
	}
	if !whole && size > wholeModelBytes {
		return e.LoadFrom(name, newBlobReader(file), size)
	}
	if !whole {
		ab, err := jsutil.Await(file.Call("arrayBuffer"))
		if err != nil {
			return nil, fmt.Errorf("%s: reading the file: %v", name, err)
		}
		file = ab
	}
	return e.Load(name, BytesFromJS(file))
}

// download fetches url as a Blob, posting progress for request id (none
// when id < 0) as the body streams in. The browser keeps a Blob's bytes
// in its blob storage, out of this worker's memory. A small file with no
// progress to show (the shipped model's preload) comes as an ArrayBuffer,
// in one step.
func download(id int, url string) (js.Value, error) {
	resp, err := jsutil.Await(js.Global().Call("fetch", url))
	if err != nil {
		return js.Undefined(), fmt.Errorf("downloading %s: %v (is the server running, or the page cached for offline use?)", url, err)
	}
	if !resp.Get("ok").Bool() {
		return js.Undefined(), fmt.Errorf("downloading %s: HTTP %d %s", url, resp.Get("status").Int(), resp.Get("statusText").String())
	}
	tooLarge := fmt.Errorf("downloading %s: larger than %d bytes", url, maxModelBytes)
	total := contentLength(resp)
	if total > maxModelBytes {
		resp.Get("body").Call("cancel")
		return js.Undefined(), tooLarge
	}
	if id < 0 && total > 0 && total <= wholeModelBytes {
		ab, err := jsutil.Await(resp.Call("arrayBuffer"))
		if err != nil {
			return js.Undefined(), fmt.Errorf("downloading %s: %v", url, err)
		}
		return ab, nil
	}
	var over bool
	body := resp
	if id >= 0 {
		var stop func()
		body, stop = counted(resp, func(loaded int64) bool {
			if over = loaded > maxModelBytes; over {
				return false
			}
			post(protocol.Response{ID: id, Kind: protocol.KindProgress, Progress: &protocol.Progress{Loaded: loaded, Total: total}})
			return true
		})
		defer stop()
	}
	blob, err := jsutil.Await(body.Call("blob"))
	switch {
	case over || err == nil && blob.Get("size").Float() > maxModelBytes:
		return js.Undefined(), tooLarge
	case err != nil:
		return js.Undefined(), fmt.Errorf("downloading %s: %v", url, err)
	}
	return blob, nil
}

// contentLength is a response's length, 0 when unknown. A gzip- or
// br-encoded response reports the compressed length; the bytes read are
// decompressed, so it is only trusted without one.
func contentLength(resp js.Value) int64 {
	var total int64
	if cl := resp.Get("headers").Call("get", "Content-Length"); cl.Type() == js.TypeString {
		fmt.Sscan(cl.String(), &total)
	}
	if enc := resp.Get("headers").Call("get", "Content-Encoding"); enc.Type() == js.TypeString && strings.TrimSpace(enc.String()) != "" {
		total = 0
	}
	return total
}

// counted returns a response with resp's body, which tells progress the
// bytes passed so far as they stream through; the stream fails when
// progress returns false. stop releases the callback once the body is read.
func counted(resp js.Value, progress func(loaded int64) bool) (js.Value, func()) {
	var loaded int64
	transform := js.FuncOf(func(_ js.Value, args []js.Value) any {
		chunk, ctrl := args[0], args[1]
		loaded += int64(chunk.Get("length").Int())
		if !progress(loaded) {
			ctrl.Call("error", js.Global().Get("Error").New("the file is too large"))
			return nil
		}
		ctrl.Call("enqueue", chunk)
		return nil
	})
	ts := js.Global().Get("TransformStream").New(js.ValueOf(map[string]any{"transform": transform}))
	body := resp.Get("body").Call("pipeThrough", ts)
	return js.Global().Get("Response").New(body), transform.Release
}
