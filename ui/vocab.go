//go:build js && wasm

package ui

import (
	"strconv"
	"strings"
	"syscall/js"
)

// buildVocabPanel makes the Words panel: the model's words, searchable;
// pressing one puts it into the scene.
func (a *App) buildVocabPanel() js.Value {
	return el("section", attrs{"class": "panel vocab-panel", "aria-labelledby": "vocab-title"},
		el("h2", attrs{"id": "vocab-title"}, "Words"),
		el("label", attrs{"for": IDVocabSearch}, "Find a word the model knows"),
		el("input", attrs{"id": IDVocabSearch, "type": "search", "autocomplete": "off", "spellcheck": "false", "placeholder": "e.g. tree"}),
		el("p", attrs{"class": "hint"}, "Press an object to add it to the scene, a relationship to write it after the last object."),
		el("div", attrs{"id": IDVocabList, "class": "vocab"}))
}

func (a *App) buildVocabHandlers() {
	search := byID(IDVocabSearch)
	a.h.on(search, "input", func(js.Value) { a.filterVocab(search.Get("value").String()) })
}

// renderVocab lists the loaded model's words.
func (a *App) renderVocab() {
	a.vocH.release()
	box := byID(IDVocabList)
	clearNode(box)
	group := func(title string, words []string, pred bool) {
		list := el("ul", attrs{"class": "words", "aria-label": title})
		for _, w := range words {
			if strings.HasPrefix(w, "__") {
				continue // __image__, __in_image__: the model's own
			}
			w := w
			b := el("button", attrs{"type": "button", "data-word": w}, w)
			list.Call("appendChild", el("li", nil, b))
			a.vocH.on(b, "click", func(js.Value) { a.insertWord(w, pred) })
		}
		box.Call("appendChild", el("h3", nil, title+" ("+strconv.Itoa(list.Get("childElementCount").Int())+")"))
		box.Call("appendChild", list)
	}
	group("Objects", a.info.Objects, false)
	group("Relationships", a.info.Predicates, true)
	a.filterVocab(byID(IDVocabSearch).Get("value").String())
}

// filterVocab shows the words that contain q.
func (a *App) filterVocab(q string) {
	q = strings.ToLower(strings.TrimSpace(q))
	for _, b := range nodeList(byID(IDVocabList).Call("querySelectorAll", "button[data-word]")) {
		w := b.Call("getAttribute", "data-word").String()
		li := b.Get("parentElement")
		if q == "" || strings.Contains(w, q) {
			li.Call("removeAttribute", "hidden")
		} else {
			li.Call("setAttribute", "hidden", "")
		}
	}
}

// insertWord adds an object to the scene, or writes a relationship word
// into the scene field for the user to finish the clause.
func (a *App) insertWord(w string, pred bool) {
	in := byID(IDTextInput)
	text := strings.TrimRight(in.Get("value").String(), " ")
	if pred {
		in.Set("value", text+" "+w+" ")
		in.Call("focus")
		n := in.Get("value").Length()
		in.Call("setSelectionRange", n, n)
		return
	}
	// A name already in the scene is that object: a new one is name#n.
	if n := strings.Count(";"+strings.Join(a.s.Graph.Objects, ";")+";", ";"+w+";"); n > 0 {
		w += "#" + strconv.Itoa(n+1)
	}
	if text != "" && !strings.HasSuffix(text, ";") {
		text += ";"
	}
	if text != "" {
		text += " "
	}
	in.Set("value", text+w)
	a.textEdited(text + w)
	a.note("Added " + w + ".")
}
