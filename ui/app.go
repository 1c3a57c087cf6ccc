//go:build js && wasm

// Package ui is the in-browser scene-graph editor: it builds the page in Go
// on syscall/js and asks the engine worker for images.
package ui

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"syscall/js"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
)

// Where the page finds its parts.
const (
	workerURL      = "worker.js"
	shippedModel   = "model.safetensors"
	debounceMillis = 150
	variations     = 4
)

// App is the page's state; every view renders from it.
type App struct {
	c     *client
	store *storage
	info  *protocol.ModelInfo
	vocab *model.Vocab

	graph model.SceneGraph
	seed  uint64
	// boxes are the user's edited boxes, one per object; nil means predicted.
	boxes  [][4]float32
	result *protocol.ImagesInfo

	busy, dirty bool
	timer       js.Value
	sentAt      float64
	dragging    bool

	h                            handlers // for nodes that live as long as the page
	objH, relH, layH, galH, varH handlers // for nodes rebuilt by their views
}

// Run builds the page and starts the engine; it never returns.
func Run() {
	a := &App{seed: 1}
	defer func() {
		if r := recover(); r != nil {
			showFatal(fmt.Sprint("the page crashed: ", r))
		}
	}()
	a.build()
	a.restore()
	a.store = newStorage(a)
	a.c = newClient(workerURL, func(msg string) { a.status("Error: " + msg) })
	a.loadURL(shippedModel, "shipped model")
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

// restore reads the last graph and seed of an earlier visit.
func (a *App) restore() {
	if s := storageGet(keyGraph); s != "" {
		if gs, err := model.ParseGraphs([]byte(s)); err == nil {
			a.graph = gs[0]
		}
	}
	if s := storageGet(keySeed); s != "" {
		if v, err := strconv.ParseUint(s, 10, 64); err == nil {
			a.seed = v
		}
	}
	byID(IDSeed).Set("value", strconv.FormatUint(a.seed, 10))
	if len(a.graph.Objects) > 0 {
		a.renderEditor()
	}
}

func (a *App) persist() {
	b, _ := json.Marshal(a.graph)
	storageSet(keyGraph, string(b))
	storageSet(keySeed, strconv.FormatUint(a.seed, 10))
}

// status shows a short line in the live region.
func (a *App) status(msg string) { setText(byID(IDStatus), msg) }

// loadURL asks the engine to download and load a model.
func (a *App) loadURL(url, name string) {
	a.loadModel(protocol.LoadRequest{URL: url, Name: name}, js.Undefined())
}

func (a *App) loadModel(req protocol.LoadRequest, bytes js.Value) {
	prog := byID(IDModelProgress)
	prog.Call("removeAttribute", "hidden")
	prog.Call("removeAttribute", "value")
	setText(byID(IDModelStatus), "Loading "+req.Name+"…")
	a.busy = true
	a.c.freshEngine()
	a.c.send(protocol.Request{Kind: protocol.KindLoad, Load: &req}, bytes, func(r *protocol.Response) {
		switch r.Kind {
		case protocol.KindProgress:
			if r.Progress.Total > 0 {
				prog.Set("max", float64(r.Progress.Total))
				prog.Set("value", float64(r.Progress.Loaded))
			}
			setText(byID(IDModelStatus), fmt.Sprintf("Loading %s… %.1f MB", req.Name, float64(r.Progress.Loaded)/1e6))
			return
		case protocol.KindError:
			prog.Call("setAttribute", "hidden", "")
			setText(byID(IDModelStatus), "Could not load the model: "+r.Error)
			a.busy = false
			return
		}
		prog.Call("setAttribute", "hidden", "")
		a.busy = false
		a.modelLoaded(r.Loaded)
	})
}

func (a *App) modelLoaded(info *protocol.ModelInfo) {
	a.info = info
	a.vocab = model.NewVocab(info.Objects, info.Predicates)
	a.store.modelLoaded(info.Name)
	setText(byID(IDModelStatus), fmt.Sprintf("%s: %d objects, %d predicates, %dx%d images, %.1fM parameters",
		info.Name, len(info.Objects), len(info.Predicates), info.ImageSize[1], info.ImageSize[0], float64(info.Params)/1e6))
	dl := byID(IDVocabObjects)
	clearNode(dl)
	for _, o := range info.Objects {
		dl.Call("appendChild", el("option", attrs{"value": o}))
	}
	a.renderGallery()
	if len(a.graph.Objects) == 0 {
		if ex := Gallery(a.vocab); len(ex) > 0 {
			a.useText(ex[0].Text)
		}
	}
	a.renderEditor()
	a.generateNow()
}

// useText replaces the graph with a scene in the one-line syntax.
func (a *App) useText(text string) {
	g, err := model.ParseText(text, a.predicates())
	if err != nil {
		return
	}
	a.graph = g
	a.boxes = nil
}

func (a *App) predicates() []string {
	if a.info == nil {
		return nil
	}
	return a.info.Predicates
}

// changed is called after every edit of the graph.
func (a *App) changed(fromText bool) {
	if len(a.boxes) != len(a.graph.Objects) {
		a.boxes = nil
	}
	a.persist()
	if fromText {
		a.renderLists()
	} else {
		a.renderEditor()
	}
	a.renderGraph()
	a.schedule()
}

// schedule generates after a short pause in editing.
func (a *App) schedule() {
	if a.timer.Truthy() {
		window.Call("clearTimeout", a.timer)
	}
	var fn js.Func
	fn = js.FuncOf(func(js.Value, []js.Value) any {
		fn.Release()
		a.timer = js.Undefined()
		guard(a.generateNow)
		return nil
	})
	a.timer = window.Call("setTimeout", fn, debounceMillis)
}

// generateNow sends the current graph unless a request is in flight, in
// which case it is sent when that one returns.
func (a *App) generateNow() {
	if a.info == nil {
		return
	}
	if a.busy {
		a.dirty = true
		return
	}
	if len(a.graph.Objects) == 0 {
		a.showError("objects", "Add an object to draw a scene.")
		return
	}
	a.busy, a.dirty = true, false
	a.sentAt = window.Get("performance").Call("now").Float()
	req := &protocol.GenerateRequest{Graph: a.graph, Seed: a.seed, Count: 1, Boxes: a.boxes}
	a.status("Drawing…")
	a.c.send(protocol.Request{Kind: protocol.KindGenerate, Generate: req}, js.Undefined(), func(r *protocol.Response) {
		a.busy = false
		if r.Kind == protocol.KindError {
			a.showError(r.Field, r.Error)
			a.status("Not drawn: fix the error above.")
		} else {
			a.clearErrors()
			a.result = r.Images
			elapsed := window.Get("performance").Call("now").Float() - a.sentAt
			a.status(fmt.Sprintf("Drawn in %.0f ms (network %.0f ms), seed %d.", elapsed, r.Images.Timings["network"], a.seed))
			a.renderImage()
			a.renderLayout()
		}
		if a.dirty {
			a.generateNow()
		} else if r.Kind != protocol.KindError {
			a.generateVariations()
		}
	})
}

// generateVariations fills the strip with the next seeds.
func (a *App) generateVariations() {
	a.busy = true
	req := &protocol.GenerateRequest{Graph: a.graph, Seed: a.seed + 1, Count: variations, Boxes: a.boxes}
	a.c.send(protocol.Request{Kind: protocol.KindGenerate, Generate: req}, js.Undefined(), func(r *protocol.Response) {
		a.busy = false
		if r.Kind == protocol.KindImages {
			a.renderVariations(r.Images)
		}
		if a.dirty {
			a.generateNow()
		}
	})
}

// errorIDs maps a request field to where its error shows.
var errorIDs = map[string]string{
	"objects": IDObjectsError, "relationships": IDRelsError, "boxes": IDBoxesError,
	"text": IDTextError, "graph": IDObjectsError, "": IDObjectsError, "count": IDObjectsError,
}

func (a *App) showError(field, msg string) {
	id, ok := errorIDs[field]
	if !ok {
		id = IDObjectsError
	}
	setText(byID(id), msg)
}

func (a *App) clearErrors() {
	for _, id := range []string{IDObjectsError, IDRelsError, IDBoxesError} {
		setText(byID(id), "")
	}
}

// newSeed draws a fresh seed.
func (a *App) newSeed() {
	a.seed = rand.Uint64N(1 << 31)
	byID(IDSeed).Set("value", strconv.FormatUint(a.seed, 10))
	a.persist()
	a.generateNow()
}
