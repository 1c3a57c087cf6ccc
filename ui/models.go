//go:build js && wasm

package ui

import (
	"fmt"
	"strings"
	"syscall/js"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
)

// modelExts are the files a model comes in.
var modelExts = []string{".safetensors", ".pt", ".pth", ".ckpt", ".bin"}

// loadURL asks the engine to download and load a model.
func (a *App) loadURL(url, name string) {
	a.loadModel(protocol.LoadRequest{URL: url, Name: name}, js.Undefined())
}

// loadModel sends a load request, with the model's file (a Blob) when it
// has no URL; on failure the model drawing so far stays, and the header
// says so beside the failure.
func (a *App) loadModel(req protocol.LoadRequest, file js.Value) {
	prog := byID(IDModelProgress)
	prog.Call("removeAttribute", "hidden")
	prog.Call("removeAttribute", "value")
	setText(byID(IDModelError), "")
	setText(byID(IDModelStatus), "Loading "+req.Name+"…")
	a.store.loading(req)
	a.c.sendLoad(protocol.Request{Kind: protocol.KindLoad, Load: &req}, file, func(r *protocol.Response) {
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
			a.modelFailed(req.Name, forBrowser(r.Error))
			return
		}
		prog.Call("setAttribute", "hidden", "")
		a.modelLoaded(r.Loaded)
	})
}

// modelFailed reports a failed load; the header goes back to the model
// that still draws.
func (a *App) modelFailed(name, msg string) {
	still := ""
	if a.info != nil {
		still = " The pictures are still drawn by " + a.info.Name + "."
		a.describeModel()
	} else if name != shippedName {
		// A ?model= link that failed: draw with the shipped model instead.
		a.loadURL(shippedModel, shippedName)
		still = " Opening the shipped model instead."
	} else {
		setText(byID(IDModelStatus), "No model loaded.")
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	setText(byID(IDModelError), "Could not open "+name+": "+msg+still)
	a.renderModelMenu()
}

func (a *App) modelLoaded(info *protocol.ModelInfo) {
	a.info = info
	mark(markModelReady)
	a.vocab = model.NewVocab(info.Objects, info.Predicates)
	a.store.modelLoaded(info.Name)
	a.describeModel()
	a.renderModelMenu()
	dl := byID(IDVocabObjects)
	clearNode(dl)
	for _, o := range info.Objects {
		if !strings.HasPrefix(o, "__") { // __image__ is the model's own
			dl.Call("appendChild", el("option", attrs{"value": o}))
		}
	}
	a.renderGallery()
	a.renderVocab()
	if a.fragment != "" {
		a.openFragment()
	}
	if len(a.s.Graph.Objects) == 0 {
		if ex := Gallery(a.vocab); len(ex) > 0 {
			if g, err := model.ParseText(ex[0].Text, a.predicates()); err == nil {
				a.s.Graph = g
			}
		}
	}
	a.renderEditor()
	a.settle()
	a.generateNow()
}

// openFragment takes the scene of a shared link.
func (a *App) openFragment() {
	s, ok, err := ParseFragment(a.fragment, a.predicates())
	a.fragment = ""
	if err != nil {
		setText(byID(IDTextError), "This link's scene could not be read: "+err.Error())
		return
	}
	if ok {
		if len(a.s.Graph.Objects) > 0 && !a.s.Equal(s) {
			a.hist.Record(a.s, "", now()) // undo goes back to the scene of the last visit
			a.renderHistoryButtons()
		}
		a.s = s
		byID(IDSeed).Set("value", fmt.Sprint(s.Seed))
	}
}

func (a *App) describeModel() {
	info := a.info
	setText(byID(IDModelStatus), fmt.Sprintf("%s: %d objects, %d predicates, %dx%d images, %.1fM parameters",
		info.Name, len(info.Objects), len(info.Predicates), info.ImageSize[1], info.ImageSize[0], float64(info.Params)/1e6))
}

// renderModelMenu lists the shipped model and, once another model is
// loaded, that one by its name.
func (a *App) renderModelMenu() {
	sel := byID(IDModelSelect)
	clearNode(sel)
	sel.Call("appendChild", el("option", attrs{"value": "shipped"}, "Shipped model"))
	if a.info != nil && a.info.Name != shippedName {
		sel.Call("appendChild", el("option", attrs{"value": "current"}, a.info.Name))
		sel.Set("value", "current")
	}
}

// loadFile opens a model file the user picked or dropped.
func (a *App) loadFile(f js.Value) {
	name := f.Get("name").String()
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".json") {
		a.modelFailed(name, "this is a scene file (JSON), not a model. Models are .safetensors or .pt files; to open the scene, use Import.")
		return
	}
	known := false
	for _, ext := range modelExts {
		known = known || strings.HasSuffix(lower, ext)
	}
	if !known {
		a.modelFailed(name, "not a model file. Models are .safetensors files or the release's .pt checkpoints.")
		return
	}
	a.store.picked = f // the storage panel may keep it
	// The file itself goes to the engine, which reads it a part at a
	// time: its bytes never sit whole in the page's memory or the engine's.
	a.loadModel(protocol.LoadRequest{Name: name}, f)
}
