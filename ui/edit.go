//go:build js && wasm

package ui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"syscall/js"

	"github.com/sg2im-go/sg2im/model"
)

// Edit kinds: edits of one typing kind in a row are one undo step.
const (
	editText = "text" // the scene field
	editName = "name" // an object's name field (+ its index)
)

// apply makes one edit: it records the session for undo, runs fn, and
// redraws. kind merges a run of typing into one step ("" never merges).
func (a *App) apply(kind string, fn func()) {
	before := a.s.Clone()
	a.note("")
	fn()
	if a.s.Equal(before) {
		return
	}
	a.hist.Record(before, kind, now())
	setText(byID(IDModelError), "")
	a.edited(kind)
}

// edited redraws after a change of a.s. Typing only parses now; the lists,
// the graph and the address follow at the pause, so a keystroke costs the
// same at 3 objects or 64.
func (a *App) edited(kind string) {
	switch {
	case kind == editText:
		a.listsLate = true
	case strings.HasPrefix(kind, editName):
		byID(IDTextInput).Set("value", model.FormatText(a.s.Graph))
		a.listsLate = true
	default:
		a.keepFocus(func() {
			a.renderEditor()
			a.renderPins()
		})
	}
	byID(IDSeed).Set("value", strconv.FormatUint(a.s.Seed, 10))
	a.renderHistoryButtons()
	a.schedule()
}

// settle does what waits for a pause in editing: saving, the address, the
// views that typing left alone, the notes.
func (a *App) settle() {
	if a.listsLate {
		a.listsLate = false
		a.keepFocus(func() {
			a.renderLists()
			a.renderGraph()
		})
	}
	a.persist()
	a.renderNotes()
}

// persist keeps the session for the next visit and in the address.
func (a *App) persist() {
	storageSet(keySession, string(MarshalSession(a.s)))
	b, _ := json.Marshal(a.s.Graph)
	storageSet(keyGraph, string(b))
	storageSet(keySeed, strconv.FormatUint(a.s.Seed, 10))
	if a.info == nil || a.fragment != "" {
		return
	}
	loc := window.Get("location")
	a.hash = "#" + a.s.Fragment(a.predicates())
	u := loc.Get("pathname").String() + loc.Get("search").String() + a.hash
	window.Get("history").Call("replaceState", js.Null(), "", u)
}

// hashChanged opens a scene link followed in this tab (a pasted or
// edited address), as an edit that undo takes back.
func (a *App) hashChanged() {
	h := window.Get("location").Get("hash").String()
	if h == a.hash || a.info == nil {
		return
	}
	s, ok, err := ParseFragment(h, a.predicates())
	if err != nil {
		setText(byID(IDTextError), "This link's scene could not be read: "+err.Error())
		return
	}
	if ok {
		a.apply("", func() { a.s = s })
	}
}

// undo and redo step through the history; the views follow.
func (a *App) undo() { a.step(a.hist.Undo) }
func (a *App) redo() { a.step(a.hist.Redo) }

func (a *App) step(move func(Session) (Session, bool)) {
	s, ok := move(a.s)
	if !ok {
		return
	}
	a.s = s
	byID(IDSeed).Set("value", strconv.FormatUint(s.Seed, 10))
	a.keepFocus(a.renderEditor)
	a.renderHistoryButtons()
	a.schedule()
}

func (a *App) renderHistoryButtons() {
	setDisabled(byID(IDUndo), !a.hist.CanUndo())
	setDisabled(byID(IDRedo), !a.hist.CanRedo())
}

func setDisabled(n js.Value, off bool) {
	if off {
		n.Call("setAttribute", "disabled", "")
	} else {
		n.Call("removeAttribute", "disabled")
	}
}

// keepFocus runs a render that rebuilds nodes and puts the focus back
// where the user was: on the node with the same data-key, else on the
// first of fallbacks that exists.
func (a *App) keepFocus(render func(), fallbacks ...string) {
	key := ""
	var sel []js.Value // a text field's selection, to put back
	if act := document.Get("activeElement"); act.Truthy() {
		if k := act.Call("getAttribute", "data-key"); k.Type() == js.TypeString {
			key = k.String()
		}
		if act.Get("tagName").String() == "INPUT" && act.Get("type").String() == "text" {
			sel = []js.Value{act.Get("selectionStart"), act.Get("selectionEnd")}
		}
	}
	render()
	if key == "" {
		return
	}
	if act := document.Get("activeElement"); act.Truthy() && !act.Equal(document.Get("body")) {
		return // still on a node that stayed
	}
	if focusKey(append([]string{key}, fallbacks...)...) && sel != nil {
		if act := document.Get("activeElement"); act.Get("tagName").String() == "INPUT" {
			act.Call("setSelectionRange", sel[0], sel[1])
		}
	}
}

// focusKey focuses the first node with one of keys as its data-key.
func focusKey(keys ...string) bool {
	for _, k := range keys {
		if n := document.Call("querySelector", `[data-key="`+k+`"]`); n.Truthy() && !n.Get("disabled").Truthy() {
			n.Call("focus")
			return true
		}
	}
	return false
}

// note says something about the last edit in the notes line under the lists.
func (a *App) note(msg string) { setText(byID(IDEditNote), msg) }

// renderNotes warns about what the model draws poorly.
func (a *App) renderNotes() {
	var notes []string
	g := a.s.Graph
	refs := refsOf(g.Objects)
	for _, r := range g.Relationships {
		if r.Subject == r.Object && r.Subject >= 0 && r.Subject < len(refs) {
			ref := refs[r.Subject]
			notes = append(notes, fmt.Sprintf("“%s %s %s” relates %s to itself, which the model cannot show; for a second %s write %s#2.",
				ref, r.Predicate, ref, ref, g.Objects[r.Subject], g.Objects[r.Subject]))
		}
	}
	if n := len(g.Objects); n > manyObjects {
		notes = append(notes, fmt.Sprintf("%d objects is far more than the scenes the model learnt from (a handful each): expect a blurred picture. Fewer objects draw more clearly.", n))
	}
	setText(byID(IDSceneNotes), strings.Join(notes, " "))
}
