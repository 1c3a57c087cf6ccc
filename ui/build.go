//go:build js && wasm

package ui

import (
	"strconv"
	"strings"
	"syscall/js"

	"github.com/sg2im-go/sg2im/model"
)

// build creates the page's permanent nodes and their handlers.
func (a *App) build() {
	root := byID(IDApp)
	clearNode(root)
	root.Call("appendChild", a.buildHeader())
	root.Call("appendChild", el("main", attrs{"class": "grid"},
		a.buildEditor(), a.buildImagePanel(), a.buildLayoutPanel(), a.buildGraphPanel(), a.buildVocabPanel()))
	a.buildModelHandlers()
	a.buildEditorHandlers()
	a.buildImageHandlers()
	a.buildLayoutHandlers()
	a.buildVocabHandlers()
	a.buildShortcuts()
	a.h.on(window, "hashchange", func(js.Value) { a.hashChanged() })
	a.renderHistoryButtons()
}

func (a *App) buildHeader() js.Value {
	return el("header", nil,
		el("h1", nil, "sg2im"),
		el("p", attrs{"class": "tagline"}, "Describe a scene; see it drawn, in your browser."),
		el("div", attrs{"class": "model"},
			el("label", attrs{"for": IDModelSelect}, "Model"),
			el("select", attrs{"id": IDModelSelect}, el("option", attrs{"value": "shipped"}, "Shipped model")),
			el("button", attrs{"id": IDModelOpen, "type": "button"}, "Open model file…"),
			el("input", attrs{"type": "file", "id": IDModelFile, "accept": ".safetensors,.pt,.pth",
				"class": "visually-hidden", "tabindex": "-1", "aria-label": "Model file"}),
			el("progress", attrs{"id": IDModelProgress, "hidden": "", "aria-label": "Model download"}),
			el("span", attrs{"id": IDModelStatus, "role": "status"}, "Starting…"),
			el("span", attrs{"id": IDModelError, "class": "model-error", "role": "alert"})))
}

func (a *App) buildEditor() js.Value {
	return el("section", attrs{"id": IDEditor, "class": "panel editor", "aria-labelledby": "editor-title"},
		el("div", attrs{"class": "title-row"},
			el("h2", attrs{"id": "editor-title"}, "Scene"),
			el("div", attrs{"class": "history"},
				el("button", attrs{"id": IDUndo, "type": "button", "aria-keyshortcuts": "Control+Z", "title": "Undo (Ctrl+Z)"}, "↶ Undo"),
				el("button", attrs{"id": IDRedo, "type": "button", "aria-keyshortcuts": "Control+Shift+Z", "title": "Redo (Ctrl+Shift+Z)"}, "↷ Redo"))),
		el("label", attrs{"for": IDTextInput}, "Describe the scene (clauses separated by ; )"),
		el("input", attrs{"id": IDTextInput, "type": "text", "autocomplete": "off", "spellcheck": "false",
			"aria-describedby": IDTextError, "placeholder": "sheep inside grass; sky above grass", "data-key": "text"}),
		el("p", attrs{"id": IDTextError, "class": "error", "role": "alert"}),
		el("p", attrs{"id": IDSceneNotes, "class": "note", "role": "status"}),
		el("div", attrs{"class": "gallery-wrap"},
			el("h3", nil, "Examples"),
			el("div", attrs{"id": IDGallery, "class": "gallery"})),
		el("h3", attrs{"id": "objects-title"}, "Objects"),
		el("ol", attrs{"id": IDObjects, "class": "rows", "aria-labelledby": "objects-title", "start": "0"}),
		el("p", attrs{"id": IDObjectsError, "class": "error", "role": "alert"}),
		el("button", attrs{"id": IDAddObject, "type": "button", "data-key": "add-object"}, "Add object"),
		el("p", attrs{"id": IDEditNote, "class": "note", "role": "status"}),
		el("h3", attrs{"id": "rels-title"}, "Relationships"),
		el("ol", attrs{"id": IDRelationships, "class": "rows rels", "aria-labelledby": "rels-title"}),
		el("p", attrs{"id": IDRelsError, "class": "error", "role": "alert"}),
		el("button", attrs{"id": IDAddRelationship, "type": "button", "data-key": "add-relationship"}, "Add relationship"),
		el("div", attrs{"class": "row json"},
			el("button", attrs{"id": IDExportJSON, "type": "button"}, "Export JSON"),
			el("button", attrs{"id": IDImportButton, "type": "button"}, "Import JSON"),
			el("input", attrs{"type": "file", "id": IDImportJSON, "accept": ".json,application/json",
				"class": "visually-hidden", "tabindex": "-1", "aria-label": "Scene file to import"}),
			el("span", attrs{"class": "hint"}, "The file keeps the scene, the seed and the pinned boxes. Or drop a .json scene or a model file here.")),
		el("datalist", attrs{"id": IDVocabObjects}))
}

func (a *App) buildGraphPanel() js.Value {
	return el("section", attrs{"class": "panel graph-panel", "aria-labelledby": "graph-title"},
		el("h2", attrs{"id": "graph-title"}, "Graph"),
		el("div", attrs{"class": "graph-scroll", "tabindex": "0", "role": "group", "aria-label": "Scene graph (scrolls when large)"},
			svgEl("svg", attrs{"id": IDGraphSVG, "viewBox": "0 0 360 260", "role": "img", "aria-label": "Scene graph drawing"})))
}

func (a *App) buildLayoutPanel() js.Value {
	return el("section", attrs{"class": "panel layout-panel", "aria-labelledby": "layout-title"},
		el("h2", attrs{"id": "layout-title"}, "Layout"),
		el("p", attrs{"class": "hint"}, "Drag a box to pin it there (its corner resizes it; or focus it and use the arrow keys, with Shift to resize); the others follow the model. Drag on an empty spot (or Shift+drag anywhere) to add an object in the box you draw."),
		el("div", attrs{"id": IDLayout, "class": "layout"},
			el("canvas", attrs{"id": IDLayoutCanvas, "aria-hidden": "true"})),
		el("p", attrs{"id": IDBoxesError, "class": "error", "role": "alert"}),
		el("div", attrs{"class": "row"},
			el("ul", attrs{"id": IDPins, "class": "pins", "aria-label": "Pinned boxes"}),
			el("button", attrs{"id": IDResetBoxes, "type": "button", "disabled": ""}, "Unpin all")))
}

func (a *App) buildImagePanel() js.Value {
	return el("section", attrs{"class": "panel image-panel", "aria-labelledby": "image-title"},
		el("h2", attrs{"id": "image-title"}, "Image"),
		el("canvas", attrs{"id": IDImage, "class": "image pixelated", "role": "img", "aria-label": "Generated image"}),
		el("div", attrs{"class": "row"},
			el("label", attrs{"for": IDSeed}, "Seed"),
			el("input", attrs{"type": "number", "id": IDSeed, "min": "0", "step": "1", "inputmode": "numeric"}),
			el("button", attrs{"id": IDNewSeed, "type": "button"}, "New seed"),
			el("label", attrs{"class": "check"}, el("input", attrs{"type": "checkbox", "id": IDSmooth}), "Smooth scaling")),
		el("div", attrs{"class": "row"},
			el("label", attrs{"for": IDScale}, "Size"),
			el("select", attrs{"id": IDScale},
				el("option", attrs{"value": "1"}, "1×"), el("option", attrs{"value": "4"}, "4×"), el("option", attrs{"value": "8"}, "8×")),
			el("button", attrs{"id": IDDownload, "type": "button"}, "Download PNG")),
		el("div", attrs{"class": "row"},
			el("h3", nil, "Variations"),
			el("label", attrs{"for": IDVariationCount, "class": "visually-hidden"}, "How many variations"),
			el("select", attrs{"id": IDVariationCount},
				el("option", attrs{"value": "4"}, "4"), el("option", attrs{"value": "8"}, "8"), el("option", attrs{"value": "16"}, "16"))),
		el("div", attrs{"id": IDVariations, "class": "variations"}),
		el("p", attrs{"id": IDStatus, "class": "status", "role": "status", "aria-live": "polite"}))
}

func (a *App) buildModelHandlers() {
	h := &a.h
	sel, file := byID(IDModelSelect), byID(IDModelFile)
	h.on(sel, "change", func(js.Value) {
		if sel.Get("value").String() == "shipped" {
			a.loadURL(shippedModel, shippedName)
		}
	})
	h.on(byID(IDModelOpen), "click", func(js.Value) { file.Call("click") })
	h.on(file, "change", func(js.Value) {
		if f := file.Get("files").Index(0); f.Truthy() {
			a.loadFile(f)
		}
		file.Set("value", "")
	})
}

func (a *App) buildEditorHandlers() {
	h := &a.h
	text := byID(IDTextInput)
	h.on(text, "input", func(js.Value) { a.textEdited(text.Get("value").String()) })
	h.on(text, "blur", func(js.Value) { a.blurred() })
	h.on(byID(IDUndo), "click", func(js.Value) { a.undo() })
	h.on(byID(IDRedo), "click", func(js.Value) { a.redo() })
	h.on(byID(IDAddObject), "click", func(js.Value) {
		a.addObject(a.defaultObject())
		a.focusLast(IDObjects, "input")
	})
	h.on(byID(IDAddRelationship), "click", func(js.Value) {
		n := len(a.s.Graph.Objects)
		if n == 0 {
			a.showError("relationships", "Add objects first.")
			return
		}
		pred := "above"
		if p := a.predicates(); len(p) > 0 {
			pred = p[0]
		}
		a.apply("", func() {
			a.s.Graph.Relationships = append(a.s.Graph.Relationships, model.Relationship{Subject: 0, Predicate: pred, Object: min(1, n-1)})
		})
		a.focusLast(IDRelationships, "select")
	})
	h.on(byID(IDExportJSON), "click", func(js.Value) {
		saveBytes("scene.json", "application/json", MarshalSession(a.s))
	})
	imp := byID(IDImportJSON)
	h.on(byID(IDImportButton), "click", func(js.Value) { imp.Call("click") })
	h.on(imp, "change", func(js.Value) {
		if f := imp.Get("files").Index(0); f.Truthy() {
			a.importFile(f)
		}
		imp.Set("value", "")
	})
	editor := byID(IDEditor)
	h.on(editor, "dragover", func(ev js.Value) { ev.Call("preventDefault") })
	h.on(editor, "drop", func(ev js.Value) {
		ev.Call("preventDefault")
		if f := ev.Get("dataTransfer").Get("files").Index(0); f.Truthy() {
			a.importFile(f)
		}
	})
}

// defaultObject is the name a new object gets: the word searched for in
// the Words panel when the model knows it, else the model's first word.
func (a *App) defaultObject() string {
	if a.vocab != nil {
		w := strings.TrimSpace(byID(IDVocabSearch).Get("value").String())
		if _, err := a.vocab.ObjectID(w); err == nil && w != "" {
			return w
		}
	}
	if a.info != nil && len(a.info.Objects) > 0 {
		for _, o := range a.info.Objects {
			if !strings.HasPrefix(o, "__") {
				return o
			}
		}
	}
	return "sky"
}

func (a *App) addObject(name string) {
	a.apply("", func() { a.s.Graph.Objects = append(slicesClone(a.s.Graph.Objects), name) })
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

func (a *App) buildImageHandlers() {
	h := &a.h
	smooth, seed := byID(IDSmooth), byID(IDSeed)
	h.on(smooth, "change", func(js.Value) {
		byID(IDImage).Get("classList").Call("toggle", "pixelated", !smooth.Get("checked").Bool())
	})
	h.on(seed, "change", func(js.Value) {
		v, err := strconv.ParseUint(strings.TrimSpace(seed.Get("value").String()), 10, 64)
		if err != nil {
			a.status("The seed must be a whole number ≥ 0.")
			return
		}
		a.apply("", func() { a.s.Seed = v })
	})
	h.on(byID(IDNewSeed), "click", func(js.Value) { a.newSeed() })
	h.on(byID(IDDownload), "click", func(js.Value) { a.download() })
	// One listener for the grid, whose buttons are reused for new seeds.
	h.on(byID(IDVariations), "click", func(ev js.Value) {
		b := ev.Get("target").Call("closest", "button[data-seed]")
		if !b.Truthy() {
			return
		}
		if v, err := strconv.ParseUint(b.Call("getAttribute", "data-seed").String(), 10, 64); err == nil {
			a.apply("", func() { a.s.Seed = v })
		}
	})
	count := byID(IDVariationCount)
	h.on(count, "change", func(js.Value) {
		a.variations, _ = strconv.Atoi(count.Get("value").String())
		if a.result != nil {
			a.generateVariations()
		}
	})
}

// buildShortcuts makes Ctrl+Z and Ctrl+Shift+Z (Ctrl+Y; Cmd on a Mac) the
// app's undo and redo everywhere, text fields included: the browser's own
// field history would mix text the app wrote with text the user typed.
func (a *App) buildShortcuts() {
	a.h.on(document, "keydown", func(ev js.Value) {
		if !ev.Get("ctrlKey").Bool() && !ev.Get("metaKey").Bool() {
			return
		}
		switch k := strings.ToLower(ev.Get("key").String()); {
		case k == "z" && ev.Get("shiftKey").Bool(), k == "y":
			ev.Call("preventDefault")
			a.redo()
		case k == "z":
			ev.Call("preventDefault")
			a.undo()
		}
	})
	a.h.on(document, "beforeinput", func(ev js.Value) {
		switch ev.Get("inputType").String() {
		case "historyUndo":
			ev.Call("preventDefault")
			a.undo()
		case "historyRedo":
			ev.Call("preventDefault")
			a.redo()
		}
	})
}

// newSeed draws a fresh seed.
func (a *App) newSeed() {
	v := uint64(window.Get("Math").Call("random").Float() * (1 << 31))
	a.apply("", func() { a.s.Seed = v })
	byID(IDSeed).Set("value", strconv.FormatUint(v, 10))
}

// importFile takes a dropped or picked file: a scene (.json) or a model.
func (a *App) importFile(f js.Value) {
	name := f.Get("name").String()
	if !strings.HasSuffix(strings.ToLower(name), ".json") {
		a.loadFile(f)
		return
	}
	if f.Get("size").Float() > maxSceneFile {
		setText(byID(IDTextError), name+": larger than a scene file can be (1 MB); is it a model? Open models with “Open model file…”.")
		return
	}
	a.readFile(f, func(b []byte) {
		s, n, hasSeed, err := ParseSession(b)
		if err != nil {
			setText(byID(IDTextError), name+": "+forBrowser(err.Error()))
			return
		}
		setText(byID(IDTextError), "")
		if n > 1 {
			a.note(name + " holds " + strconv.Itoa(n) + " graphs; showing the first.")
		}
		if !hasSeed {
			s.Seed = a.s.Seed
		}
		a.apply("", func() { a.s = s })
		byID(IDSeed).Set("value", strconv.FormatUint(a.s.Seed, 10))
	})
}

// maxSceneFile bounds a scene file read into memory.
const maxSceneFile = 1 << 20

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

// focusLast focuses the last control of a list after adding a row.
func (a *App) focusLast(listID, tag string) {
	items := byID(listID).Call("querySelectorAll", tag)
	if n := items.Get("length").Int(); n > 0 {
		items.Index(n - 1).Call("focus")
	}
}
