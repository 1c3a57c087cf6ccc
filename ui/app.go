//go:build js && wasm

// Package ui is the in-browser scene-graph editor: it builds the page in Go
// on syscall/js and asks the engine worker for images.
package ui

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"syscall/js"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
)

// Where the page finds its parts, and its pauses.
const (
	workerURL      = "worker.js"
	shippedModel   = "model.safetensors"
	shippedName    = "shipped model"
	debounceMillis = 150
	// errorPauseMillis is how long typing must pause before an error
	// shows, so that a half-typed word is not flagged at every key.
	errorPauseMillis = 800
	// manyObjects is where the picture starts to dissolve: far more
	// objects than the scenes models of this kind learn from.
	manyObjects = 24
)

// App is the page's state; every view renders from it.
type App struct {
	c     *client
	store *storage // the offline storage panel (storage.go)
	info  *protocol.ModelInfo
	vocab *model.Vocab

	s    Session
	hist History
	// fragment is a scene link waiting for the model's predicates.
	fragment string
	hash     string // the address's fragment as last written
	result   *protocol.ImagesInfo
	// latest and latestVar are the newest generate requests; answers to
	// older ones are stale and dropped.
	latest, latestVar int
	cancelled         int  // stale requests the engine skipped
	variations        int  // images in the variations grid
	firstDrawn        bool // the first image has been shown (markFirstImage set)

	timer     js.Value          // the pause before drawing
	errTimer  js.Value          // the pause before errors show
	errWait   map[string]string // errors waiting for it, by element id
	lastKey   float64           // when a text field was last typed in (ms)
	sentAt    float64
	drag      drag
	shown     [][4]float32 // the boxes on the layout
	listsLate bool         // the lists wait for a pause in typing

	h                      handlers // for nodes that live as long as the page
	objH, relH, layH, galH handlers // for nodes rebuilt by their views
	vocH, pinH             handlers
}

// Run builds the page and starts the engine; it never returns.
func Run() {
	a := &App{s: Session{Seed: 1}, variations: 4, errWait: map[string]string{}}
	defer func() {
		if r := recover(); r != nil {
			showFatal(fmt.Sprint("the page crashed: ", r))
		}
	}()
	mark(markPageStart)
	a.build()
	a.restore()
	a.store = newStorage(a)
	a.c = newClient(workerURL, func(msg string) { a.status("Error: " + forBrowser(msg)) })
	if u := modelParam(); u != "" {
		a.loadURL(u, path.Base(u))
	} else {
		a.loadURL(shippedModel, shippedName)
	}
	select {}
}

func showFatal(msg string) {
	root := byID(IDApp)
	if !root.Truthy() {
		root = document.Get("body")
	}
	clearNode(root)
	root.Call("appendChild", el("p", attrs{"class": "fatal", "role": "alert"}, msg))
}

// modelParam is ?model=URL of the page's address.
func modelParam() string {
	q := js.Global().Get("URLSearchParams").New(window.Get("location").Get("search"))
	if v := q.Call("get", "model"); v.Type() == js.TypeString {
		return strings.TrimSpace(v.String())
	}
	return ""
}

// restore takes the scene from the address, else from the last visit.
func (a *App) restore() {
	if h := window.Get("location").Get("hash").String(); len(h) > 1 {
		a.fragment = h // read once the predicates are known
	}
	if s := storageGet(keySession); s != "" {
		if st, _, _, err := ParseSession([]byte(s)); err == nil {
			a.s = st
		}
	} else if s := storageGet(keyGraph); s != "" {
		if gs, err := model.ParseGraphs([]byte(s)); err == nil {
			a.s.Graph = gs[0]
		}
		if v, err := strconv.ParseUint(storageGet(keySeed), 10, 64); err == nil {
			a.s.Seed = v
		}
	}
	byID(IDSeed).Set("value", strconv.FormatUint(a.s.Seed, 10))
	if len(a.s.Graph.Objects) > 0 {
		a.renderEditor()
	}
}

// status shows a short line in the live region.
func (a *App) status(msg string) { setText(byID(IDStatus), msg) }

func (a *App) predicates() []string {
	if a.info == nil {
		return nil
	}
	return a.info.Predicates
}

// now is the page's clock in ms.
func now() float64 { return window.Get("performance").Call("now").Float() }

// schedule generates after a short pause in editing.
func (a *App) schedule() {
	if a.timer.Truthy() {
		window.Call("clearTimeout", a.timer)
	}
	a.timer = after(debounceMillis, func() {
		a.timer = js.Undefined()
		a.settle()
		a.generateNow()
	})
}

// after runs f once, ms from now, and returns the timer.
func after(ms float64, f func()) js.Value {
	var fn js.Func
	fn = js.FuncOf(func(js.Value, []js.Value) any {
		fn.Release()
		guard(f)
		return nil
	})
	return window.Call("setTimeout", fn, ms)
}

// generateNow asks for the current picture. A newer request makes this
// one stale: the engine skips it if it has not started, and its answer
// is dropped.
func (a *App) generateNow() {
	if a.info == nil {
		return
	}
	if len(a.s.Graph.Objects) == 0 {
		a.showError("objects", "Add an object to draw a scene.")
		return
	}
	a.sentAt = now()
	boxes, pinned := a.s.Request()
	seed := a.s.Seed
	req := &protocol.GenerateRequest{Graph: a.s.Graph, Seed: seed, Count: 1, Boxes: boxes, Pinned: pinned,
		AppearanceSeeds: a.looks(), Replaceable: true}
	a.status("Drawing…")
	a.latestVar = 0
	id := a.c.send(protocol.Request{Kind: protocol.KindGenerate, Generate: req}, js.Undefined(), func(r *protocol.Response) {
		if a.stale(r, a.latest) {
			return
		}
		if r.Kind == protocol.KindError {
			a.showError(r.Field, forBrowser(r.Error))
			a.status("Not drawn: fix the error above.")
			return
		}
		a.clearErrors()
		a.result = r.Images
		elapsed := now() - a.sentAt
		a.status(fmt.Sprintf("Drawn in %.0f ms %s (network %.0f ms), seed %d.", elapsed, onThreads(r.Images.Threads),
			r.Images.Timings["network"], seed))
		a.renderImage()
		a.renderLayout()
		a.generateVariations()
	})
	a.latest = id
}

// looks are the objects' own appearance seeds for a request: none for a
// model without appearance vectors (a session may carry them from another).
func (a *App) looks() []*uint64 {
	if !a.hasLooks() {
		return nil
	}
	return a.s.AppearanceSeeds()
}

// hasLooks says whether the model gives objects a look that can be drawn anew.
func (a *App) hasLooks() bool { return a.info != nil && a.info.AppearanceDim > 0 }

// stale says whether r answers a request other than the newest one.
func (a *App) stale(r *protocol.Response, newest int) bool {
	if r.Kind == protocol.KindCancelled {
		a.cancelled++
		byID(IDStatus).Call("setAttribute", "data-cancelled", strconv.Itoa(a.cancelled))
		return true
	}
	return r.ID != newest
}

// generateVariations fills the grid with the next seeds, one image a
// request: an edit then waits for one small image at most, not a batch.
func (a *App) generateVariations() {
	for k, b := range nodeList(byID(IDVariations).Get("children")) {
		b.Get("classList").Call("add", "stale") // until its new seed is drawn
		seed := strconv.FormatUint(a.s.Seed+1+uint64(k), 10)
		b.Call("setAttribute", "data-seed", seed)
		b.Call("setAttribute", "aria-label", "Use seed "+seed)
	}
	a.requestVariation(0)
}

func (a *App) requestVariation(k int) {
	if k >= a.variations {
		a.trimVariations(k)
		return
	}
	boxes, pinned := a.s.Request()
	req := &protocol.GenerateRequest{Graph: a.s.Graph, Seed: a.s.Seed + 1 + uint64(k), Count: 1, Boxes: boxes, Pinned: pinned,
		AppearanceSeeds: a.looks(), Replaceable: true}
	a.latestVar = a.c.send(protocol.Request{Kind: protocol.KindGenerate, Generate: req}, js.Undefined(), func(r *protocol.Response) {
		if !a.stale(r, a.latestVar) && r.Kind == protocol.KindImages {
			a.showVariation(k, r.Images)
			a.requestVariation(k + 1)
		}
	})
}

// errorIDs maps a request field to where its error shows.
var errorIDs = map[string]string{
	"objects": IDObjectsError, "relationships": IDRelsError, "boxes": IDBoxesError,
	"text": IDTextError, "graph": IDObjectsError, "": IDObjectsError, "count": IDObjectsError,
	"appearance_seeds": IDObjectsError,
}

// showError shows msg by its field once typing has paused.
func (a *App) showError(field, msg string) {
	id, ok := errorIDs[field]
	if !ok {
		id = IDObjectsError
	}
	a.errorLater(id, msg)
}

// errorLater shows an error now if typing has paused, else at the pause
// (or when the field loses focus); an empty msg clears at once.
func (a *App) errorLater(id, msg string) {
	delete(a.errWait, id)
	wait := errorPauseMillis - (now() - a.lastKey)
	if msg == "" || wait <= 0 {
		setText(byID(id), msg)
		return
	}
	a.errWait[id] = msg
	if !a.errTimer.Truthy() {
		a.errTimer = after(wait, a.flushErrors)
	}
}

// flushErrors shows the waiting errors at once (at the pause, or when a
// field loses focus). Typing again restarts the pause.
func (a *App) flushErrors() {
	if a.errTimer.Truthy() {
		window.Call("clearTimeout", a.errTimer)
		a.errTimer = js.Undefined()
	}
	if wait := errorPauseMillis - (now() - a.lastKey); wait > 0 && document.Get("activeElement").Get("tagName").String() == "INPUT" {
		if len(a.errWait) > 0 {
			a.errTimer = after(wait, a.flushErrors)
		}
		return
	}
	for id, msg := range a.errWait {
		setText(byID(id), msg)
	}
	clear(a.errWait)
}

// blurred shows waiting errors when a field loses focus.
func (a *App) blurred() {
	a.lastKey = 0
	a.flushErrors()
}

func (a *App) clearErrors() {
	for _, id := range []string{IDObjectsError, IDRelsError, IDBoxesError} {
		delete(a.errWait, id)
		setText(byID(id), "")
	}
}

// onThreads says in words how many of the computer's cores drew an image.
func onThreads(n int) string {
	if n <= 1 {
		return "on one thread"
	}
	return fmt.Sprintf("on %d threads", n)
}
