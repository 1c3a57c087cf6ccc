//go:build js && wasm

package ui

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"syscall/js"

	"github.com/sg2im-go/sg2im/model"
)

// textEdited parses the one-line syntax; on error the graph stays as it
// was and the error shows once typing pauses.
func (a *App) textEdited(text string) {
	a.lastKey = now()
	in := byID(IDTextInput)
	g, err := model.ParseText(text, a.predicates())
	if err != nil {
		a.errorLater(IDTextError, err.Error())
		in.Call("setAttribute", "aria-invalid", "true")
		return
	}
	a.errorLater(IDTextError, "")
	in.Call("removeAttribute", "aria-invalid")
	a.apply(editText, func() {
		old := a.s.Graph.Objects
		a.s.Graph = g
		a.s.KeepPins(old)
	})
}

// renderEditor redraws the text field and the lists from the graph.
func (a *App) renderEditor() {
	in := byID(IDTextInput)
	in.Set("value", model.FormatText(a.s.Graph))
	in.Call("removeAttribute", "aria-invalid")
	delete(a.errWait, IDTextError)
	setText(byID(IDTextError), "")
	a.listsLate = false
	a.renderLists()
	a.renderGraph()
	a.renderNotes()
}

// renderLists rebuilds the object and relationship rows. Every control
// has a data-key, so that the focus survives the rebuild (keepFocus).
func (a *App) renderLists() {
	a.objH.release()
	list := byID(IDObjects)
	clearNode(list)
	refs := refsOf(a.s.Graph.Objects)
	n := len(refs)
	for i, ref := range refs {
		i := i
		k := "obj-" + strconv.Itoa(i)
		input := el("input", attrs{"type": "text", "list": IDVocabObjects, "value": ref, "data-key": k,
			"aria-label": "Object " + strconv.Itoa(i), "autocomplete": "off", "spellcheck": "false"})
		up := el("button", attrs{"type": "button", "data-key": k + "-up", "aria-label": "Move object " + strconv.Itoa(i) + " up"}, "↑")
		down := el("button", attrs{"type": "button", "data-key": k + "-down", "aria-label": "Move object " + strconv.Itoa(i) + " down"}, "↓")
		del := el("button", attrs{"type": "button", "data-key": k + "-del", "aria-label": "Remove object " + strconv.Itoa(i) + " (" + ref + ")"}, "✕")
		setDisabled(up, i == 0)
		setDisabled(down, i == n-1)
		row := el("li", nil, el("span", attrs{"class": "index", "aria-hidden": "true"}, strconv.Itoa(i)), input, up, down, del)
		if a.hasLooks() {
			look := el("button", attrs{"type": "button", "class": "look", "data-key": k + "-look", "aria-label": "New look for " + ref}, "New look")
			row.Call("insertBefore", look, del)
			a.objH.on(look, "click", func(js.Value) { a.newLook(i) })
		}
		list.Call("appendChild", row)
		a.objH.on(input, "input", func(js.Value) {
			a.lastKey = now()
			name := nameOf(input.Get("value").String())
			a.apply(editName+strconv.Itoa(i), func() { a.s.Graph.Objects[i] = name })
		})
		a.objH.on(input, "blur", func(js.Value) { a.blurred() })
		a.objH.on(up, "click", func(js.Value) { a.moveObject(i, i-1) })
		a.objH.on(down, "click", func(js.Value) { a.moveObject(i, i+1) })
		a.objH.on(del, "click", func(js.Value) { a.removeObject(i) })
	}
	a.renderRels()
}

// newLook draws object i's appearance anew, leaving the others' as they
// are: one undo step.
func (a *App) newLook(i int) {
	if !a.hasLooks() || i < 0 || i >= len(a.s.Graph.Objects) {
		return
	}
	seed := uint64(rand.Uint32())
	for seed == a.s.Looks[i] { // always a visible change
		seed = uint64(rand.Uint32())
	}
	a.apply("", func() { a.s.NewLook(i, seed) })
	a.note("New look for " + refsOf(a.s.Graph.Objects)[i] + ". Undo (Ctrl+Z) brings the old one back.")
}

// renderRels rebuilds the relationship rows. Their menus are clones of one
// menu of objects and one of predicates: a few calls a row, whatever the
// number of objects.
func (a *App) renderRels() {
	a.relH.release()
	list := byID(IDRelationships)
	clearNode(list)
	objMenu := el("select", nil)
	for j, ref := range refsOf(a.s.Graph.Objects) {
		objMenu.Call("appendChild", el("option", attrs{"value": strconv.Itoa(j)}, strconv.Itoa(j)+": "+ref))
	}
	preds := a.predicates()
	predMenu := el("select", nil)
	for _, p := range preds {
		predMenu.Call("appendChild", el("option", attrs{"value": p}, p))
	}
	for i, r := range a.s.Graph.Relationships {
		i := i
		k := "rel-" + strconv.Itoa(i)
		is := strconv.Itoa(i)
		subj := menuClone(objMenu, k+"-s", "Subject of relationship "+is, strconv.Itoa(r.Subject))
		obj := menuClone(objMenu, k+"-o", "Object of relationship "+is, strconv.Itoa(r.Object))
		pred := menuClone(predMenu, k+"-p", "Predicate of relationship "+is, "")
		if !slices.Contains(preds, r.Predicate) { // keep the user's word
			pred.Call("insertBefore", el("option", attrs{"value": r.Predicate}, r.Predicate), pred.Get("firstChild"))
		}
		pred.Set("value", r.Predicate)
		del := el("button", attrs{"type": "button", "data-key": k + "-del", "aria-label": "Remove relationship " + is}, "✕")
		list.Call("appendChild", el("li", nil, subj, pred, obj, del))
		a.relH.on(subj, "change", func(js.Value) {
			v := subj.Get("selectedIndex").Int()
			a.apply("", func() { a.s.Graph.Relationships[i].Subject = v })
		})
		a.relH.on(obj, "change", func(js.Value) {
			v := obj.Get("selectedIndex").Int()
			a.apply("", func() { a.s.Graph.Relationships[i].Object = v })
		})
		a.relH.on(pred, "change", func(js.Value) {
			v := pred.Get("value").String()
			a.apply("", func() { a.s.Graph.Relationships[i].Predicate = v })
		})
		a.relH.on(del, "click", func(js.Value) { a.removeRelationship(i) })
	}
}

// menuClone copies a menu with its options and labels it.
func menuClone(menu js.Value, key, label, value string) js.Value {
	s := menu.Call("cloneNode", true)
	s.Call("setAttribute", "data-key", key)
	s.Call("setAttribute", "aria-label", label)
	if value != "" {
		s.Set("value", value)
	}
	return s
}

// moveObject swaps objects i and j, keeping relationships on the same
// objects and the focus on the button pressed, now in row j.
func (a *App) moveObject(i, j int) {
	if j < 0 || j >= len(a.s.Graph.Objects) {
		return
	}
	dir := "-down"
	if j < i {
		dir = "-up"
	}
	a.apply("", func() {
		g := &a.s.Graph
		g.Objects[i], g.Objects[j] = g.Objects[j], g.Objects[i]
		swap := func(k int) int {
			switch k {
			case i:
				return j
			case j:
				return i
			}
			return k
		}
		for k := range g.Relationships {
			g.Relationships[k].Subject = swap(g.Relationships[k].Subject)
			g.Relationships[k].Object = swap(g.Relationships[k].Object)
		}
		if a.s.Pinned != nil {
			a.s.Boxes[i], a.s.Boxes[j] = a.s.Boxes[j], a.s.Boxes[i]
			a.s.Pinned[i], a.s.Pinned[j] = a.s.Pinned[j], a.s.Pinned[i]
		}
		a.s.SwapLooks(i, j)
	})
	pos := "obj-" + strconv.Itoa(j)
	focusKey(pos+dir, pos)
}

// removeObject drops object i and the relationships that use it, and says
// which went with it (undo brings them back).
func (a *App) removeObject(i int) {
	g := a.s.Graph
	refs := refsOf(g.Objects)
	var gone []string
	var kept []model.Relationship
	for _, r := range g.Relationships {
		if r.Subject == i || r.Object == i {
			gone = append(gone, "“"+refs[r.Subject]+" "+r.Predicate+" "+refs[r.Object]+"”")
			continue
		}
		if r.Subject > i {
			r.Subject--
		}
		if r.Object > i {
			r.Object--
		}
		kept = append(kept, r)
	}
	a.apply("", func() {
		a.s.RemoveLook(i)
		if a.s.Pinned != nil {
			a.s.Boxes = slices.Delete(a.s.Boxes, i, i+1)
			a.s.Pinned = slices.Delete(a.s.Pinned, i, i+1)
		}
		a.s.Graph.Objects = slices.Delete(slices.Clone(g.Objects), i, i+1)
		if kept == nil {
			kept = []model.Relationship{}
		}
		a.s.Graph.Relationships = kept
	})
	msg := "Removed " + refs[i]
	switch len(gone) {
	case 0:
		msg += "."
	case 1:
		msg += " and its relationship " + gone[0] + "."
	default:
		msg += " and its " + strconv.Itoa(len(gone)) + " relationships: " + strings.Join(gone, ", ") + "."
	}
	a.note(msg + " Undo (Ctrl+Z) brings it back.")
	k := strconv.Itoa(i)
	focusKey("obj-"+k+"-del", "obj-"+strconv.Itoa(i-1)+"-del", "add-object")
}

func (a *App) removeRelationship(i int) {
	a.apply("", func() {
		a.s.Graph.Relationships = slices.Delete(slices.Clone(a.s.Graph.Relationships), i, i+1)
	})
	focusKey("rel-"+strconv.Itoa(i)+"-del", "rel-"+strconv.Itoa(i-1)+"-del", "add-relationship")
}

// renderGallery lists the examples this model can draw.
func (a *App) renderGallery() {
	a.galH.release()
	box := byID(IDGallery)
	clearNode(box)
	for i, ex := range Gallery(a.vocab) {
		ex := ex
		b := el("button", attrs{"type": "button", "title": ex.Text, "data-key": "gal-" + strconv.Itoa(i)}, ex.Title)
		box.Call("appendChild", b)
		a.galH.on(b, "click", func(js.Value) {
			g, err := model.ParseText(ex.Text, a.predicates())
			if err != nil {
				return
			}
			a.apply("", func() { a.s.Graph, a.s.Boxes, a.s.Pinned, a.s.Looks = g, nil, nil, nil })
		})
	}
}
