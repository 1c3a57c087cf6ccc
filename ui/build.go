//go:build js && wasm

package ui

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"strconv"
	"strings"
	"syscall/js"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
)

// build creates the page's permanent nodes and their handlers.
func (a *App) build() {
	root := byID(IDApp)
	clearNode(root)
	h := &a.h

	modelSelect := el("select", attrs{"id": IDModelSelect},
		el("option", attrs{"value": "shipped"}, "Shipped model"),
		el("option", attrs{"value": "file"}, "A model file of yours…"))
	modelFile := el("input", attrs{"type": "file", "id": IDModelFile, "accept": ".safetensors,.pt,.pth", "class": "visually-hidden", "tabindex": "-1"})
	header := el("header", nil,
		el("h1", nil, "sg2im"),
		el("p", attrs{"class": "tagline"}, "Describe a scene; see it drawn, in your browser."),
		el("div", attrs{"class": "model"},
			el("label", attrs{"for": IDModelSelect}, "Model"), modelSelect, modelFile,
			el("progress", attrs{"id": IDModelProgress, "hidden": "", "aria-label": "Model download"}),
			el("span", attrs{"id": IDModelStatus, "role": "status"}, "Starting…")))

	textInput := el("input", attrs{"id": IDTextInput, "type": "text", "autocomplete": "off", "spellcheck": "false",
		"aria-describedby": IDTextError, "placeholder": "sheep inside grass; sky above grass"})
	importLabel := el("label", attrs{"for": IDImportJSON, "class": "button", "tabindex": "0", "role": "button"}, "Import JSON")
	importInput := el("input", attrs{"type": "file", "id": IDImportJSON, "accept": ".json,application/json", "class": "visually-hidden"})
	editor := el("section", attrs{"id": IDEditor, "class": "panel editor", "aria-labelledby": "editor-title"},
		el("h2", attrs{"id": "editor-title"}, "Scene"),
		el("label", attrs{"for": IDTextInput}, "Describe the scene (clauses separated by ; )"),
		textInput,
		el("p", attrs{"id": IDTextError, "class": "error", "role": "alert"}),
		el("div", attrs{"class": "gallery-wrap"},
			el("h3", nil, "Examples"),
			el("div", attrs{"id": IDGallery, "class": "gallery"})),
		el("h3", attrs{"id": "objects-title"}, "Objects"),
		el("ol", attrs{"id": IDObjects, "class": "rows", "aria-labelledby": "objects-title", "start": "0"}),
		el("p", attrs{"id": IDObjectsError, "class": "error", "role": "alert"}),
		el("button", attrs{"id": IDAddObject, "type": "button"}, "Add object"),
		el("h3", attrs{"id": "rels-title"}, "Relationships"),
		el("ol", attrs{"id": IDRelationships, "class": "rows", "aria-labelledby": "rels-title"}),
		el("p", attrs{"id": IDRelsError, "class": "error", "role": "alert"}),
		el("button", attrs{"id": IDAddRelationship, "type": "button"}, "Add relationship"),
		el("div", attrs{"class": "row json"},
			el("button", attrs{"id": IDExportJSON, "type": "button"}, "Export JSON"),
			importLabel,
			importInput,
			el("span", attrs{"class": "hint"}, "or drop a .json scene or a model file here")),
		el("datalist", attrs{"id": IDVocabObjects}))

	graphPanel := el("section", attrs{"class": "panel", "aria-labelledby": "graph-title"},
		el("h2", attrs{"id": "graph-title"}, "Graph"),
		svgEl("svg", attrs{"id": IDGraphSVG, "viewBox": "0 0 360 260", "role": "img", "aria-label": "Scene graph drawing"}))

	layoutPanel := el("section", attrs{"class": "panel", "aria-labelledby": "layout-title"},
		el("h2", attrs{"id": "layout-title"}, "Layout"),
		el("p", attrs{"class": "hint"}, "Drag a box to move it, its corner to resize it (or focus it and use the arrow keys, with Shift to resize)."),
		el("div", attrs{"id": IDLayout, "class": "layout"},
			el("canvas", attrs{"id": IDLayoutCanvas, "aria-hidden": "true"})),
		el("p", attrs{"id": IDBoxesError, "class": "error", "role": "alert"}),
		el("button", attrs{"id": IDResetBoxes, "type": "button"}, "Reset to predicted"))

	smooth := el("input", attrs{"type": "checkbox", "id": IDSmooth})
	seed := el("input", attrs{"type": "number", "id": IDSeed, "min": "0", "step": "1", "inputmode": "numeric"})
	imagePanel := el("section", attrs{"class": "panel image-panel", "aria-labelledby": "image-title"},
		el("h2", attrs{"id": "image-title"}, "Image"),
		el("canvas", attrs{"id": IDImage, "class": "image pixelated", "role": "img", "aria-label": "Generated image"}),
		el("div", attrs{"class": "row"},
			el("label", attrs{"for": IDSeed}, "Seed"), seed,
			el("button", attrs{"id": IDNewSeed, "type": "button"}, "New seed"),
			el("label", attrs{"class": "check"}, smooth, "Smooth scaling"),
			el("button", attrs{"id": IDDownload, "type": "button"}, "Download PNG")),
		el("h3", nil, "Variations"),
		el("div", attrs{"id": IDVariations, "class": "variations"}),
		el("p", attrs{"id": IDStatus, "class": "status", "role": "status", "aria-live": "polite"}))

	root.Call("appendChild", header)
	root.Call("appendChild", el("main", attrs{"class": "grid"}, editor, graphPanel, layoutPanel, imagePanel))

	h.on(modelSelect, "change", func(js.Value) {
		if modelSelect.Get("value").String() == "file" {
			modelFile.Call("click")
			return
		}
		a.loadURL(shippedModel, "shipped model")
	})
	h.on(modelFile, "change", func(js.Value) {
		if f := modelFile.Get("files").Index(0); f.Truthy() {
			a.loadFile(f)
		}
	})
	h.on(textInput, "input", func(js.Value) { a.textEdited(textInput.Get("value").String()) })
	h.on(byID(IDAddObject), "click", func(js.Value) {
		name := "sky"
		if a.info != nil && len(a.info.Objects) > 0 {
			name = a.info.Objects[0]
		}
		a.graph.Objects = append(a.graph.Objects, name)
		a.changed(false)
		a.focusLast(IDObjects, "input")
	})
	h.on(byID(IDAddRelationship), "click", func(js.Value) {
		n := len(a.graph.Objects)
		if n == 0 {
			a.showError("relationships", "Add objects first.")
			return
		}
		pred := "above"
		if p := a.predicates(); len(p) > 0 {
			pred = p[0]
		}
		a.graph.Relationships = append(a.graph.Relationships, model.Relationship{Subject: 0, Predicate: pred, Object: min(1, n-1)})
		a.changed(false)
		a.focusLast(IDRelationships, "select")
	})
	h.on(byID(IDExportJSON), "click", func(js.Value) {
		b, _ := json.MarshalIndent(a.graph, "", "  ")
		saveBytes("scene.json", "application/json", b)
	})
	h.on(importInput, "change", func(js.Value) {
		if f := importInput.Get("files").Index(0); f.Truthy() {
			a.importFile(f)
		}
		importInput.Set("value", "")
	})
	// The label stands in for the hidden file input, so keys must open it too.
	h.on(importLabel, "keydown", func(ev js.Value) {
		if k := ev.Get("key").String(); k == "Enter" || k == " " {
			ev.Call("preventDefault")
			importInput.Call("click")
		}
	})
	h.on(editor, "dragover", func(ev js.Value) { ev.Call("preventDefault") })
	h.on(editor, "drop", func(ev js.Value) {
		ev.Call("preventDefault")
		if f := ev.Get("dataTransfer").Get("files").Index(0); f.Truthy() {
			a.importFile(f)
		}
	})
	h.on(byID(IDResetBoxes), "click", func(js.Value) {
		a.boxes = nil
		a.generateNow()
	})
	h.on(smooth, "change", func(js.Value) {
		byID(IDImage).Get("classList").Call("toggle", "pixelated", !smooth.Get("checked").Bool())
	})
	h.on(seed, "change", func(js.Value) {
		v, err := strconv.ParseUint(strings.TrimSpace(seed.Get("value").String()), 10, 64)
		if err != nil {
			a.status("The seed must be a whole number ≥ 0.")
			return
		}
		a.seed = v
		a.persist()
		a.generateNow()
	})
	h.on(byID(IDNewSeed), "click", func(js.Value) { a.newSeed() })
	h.on(byID(IDDownload), "click", func(js.Value) { a.download() })
}

// importFile takes a dropped or picked file: a scene (.json) or a model.
func (a *App) importFile(f js.Value) {
	name := f.Get("name").String()
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".json") {
		a.readFile(f, func(b []byte) {
			gs, err := model.ParseGraphs(b)
			if err != nil {
				setText(byID(IDTextError), name+": "+err.Error())
				return
			}
			setText(byID(IDTextError), "")
			if len(gs) > 1 {
				a.status(name + " holds " + strconv.Itoa(len(gs)) + " graphs; showing the first.")
			}
			a.graph, a.boxes = gs[0], nil
			a.changed(false)
		})
		return
	}
	a.loadFile(f)
}

// loadFile sends a model file's bytes to the engine.
func (a *App) loadFile(f js.Value) {
	name := f.Get("name").String()
	a.store.picked = f // the storage panel may keep it
	var fn js.Func
	fn = js.FuncOf(func(_ js.Value, args []js.Value) any {
		fn.Release()
		arr := js.Global().Get("Uint8Array").New(args[0])
		guard(func() { a.loadModel(protocol.LoadRequest{Name: name}, arr) })
		return nil
	})
	f.Call("arrayBuffer").Call("then", fn)
}

// readFile reads a small file's bytes into Go.
func (a *App) readFile(f js.Value, done func([]byte)) {
	var fn js.Func
	fn = js.FuncOf(func(_ js.Value, args []js.Value) any {
		fn.Release()
		arr := js.Global().Get("Uint8Array").New(args[0])
		b := make([]byte, arr.Get("length").Int())
		js.CopyBytesToGo(b, arr)
		guard(func() { done(b) })
		return nil
	})
	f.Call("arrayBuffer").Call("then", fn)
}

// download saves the current image as a PNG.
func (a *App) download() {
	r := a.result
	if r == nil || len(r.RGBA) == 0 {
		return
	}
	img := &image.RGBA{Pix: r.RGBA[0], Stride: 4 * r.Width, Rect: image.Rect(0, 0, r.Width, r.Height)}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		a.status("Could not encode the PNG: " + err.Error())
		return
	}
	saveBytes("sg2im-seed"+strconv.FormatUint(a.seed, 10)+".png", "image/png", buf.Bytes())
}

// focusLast focuses the last control of a list after adding a row.
func (a *App) focusLast(listID, tag string) {
	items := byID(listID).Call("querySelectorAll", tag)
	if n := items.Get("length").Int(); n > 0 {
		items.Index(n - 1).Call("focus")
	}
}
