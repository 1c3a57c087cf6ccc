//go:build js && wasm

package ui

import (
	"slices"
	"strconv"
	"syscall/js"

	"github.com/sg2im-go/sg2im/model"
)

// textEdited parses the one-line syntax; on error the graph stays as it was.
func (a *App) textEdited(text string) {
	g, err := model.ParseText(text, a.predicates())
	if err != nil {
		setText(byID(IDTextError), err.Error())
		byID(IDTextInput).Call("setAttribute", "aria-invalid", "true")
		return
	}
	setText(byID(IDTextError), "")
	byID(IDTextInput).Call("removeAttribute", "aria-invalid")
	a.graph = g
	a.changed(true)
}

// renderEditor redraws the text field and the lists from the graph.
func (a *App) renderEditor() {
	in := byID(IDTextInput)
	in.Set("value", model.FormatText(a.graph))
	in.Call("removeAttribute", "aria-invalid")
	setText(byID(IDTextError), "")
	a.renderLists()
	a.renderGraph()
}

// renderLists rebuilds the object and relationship rows.
func (a *App) renderLists() {
	a.objH.release()
	list := byID(IDObjects)
	clearNode(list)
	for i, name := range a.graph.Objects {
		i := i
		input := el("input", attrs{"type": "text", "list": IDVocabObjects, "value": name,
			"aria-label": "Object " + strconv.Itoa(i), "autocomplete": "off", "spellcheck": "false"})
		up := el("button", attrs{"type": "button", "aria-label": "Move object " + strconv.Itoa(i) + " up"}, "↑")
		down := el("button", attrs{"type": "button", "aria-label": "Move object " + strconv.Itoa(i) + " down"}, "↓")
		del := el("button", attrs{"type": "button", "aria-label": "Remove object " + strconv.Itoa(i)}, "✕")
		if i == 0 {
			up.Call("setAttribute", "disabled", "")
		}
		if i == len(a.graph.Objects)-1 {
			down.Call("setAttribute", "disabled", "")
		}
		list.Call("appendChild", el("li", nil, el("span", attrs{"class": "index"}, strconv.Itoa(i)), input, up, down, del))
		a.objH.on(input, "input", func(js.Value) {
			a.graph.Objects[i] = input.Get("value").String()
			byID(IDTextInput).Set("value", model.FormatText(a.graph))
			a.persist()
			a.renderRels()
			a.renderGraph()
			a.schedule()
		})
		a.objH.on(up, "click", func(js.Value) { a.moveObject(i, i-1) })
		a.objH.on(down, "click", func(js.Value) { a.moveObject(i, i+1) })
		a.objH.on(del, "click", func(js.Value) { a.removeObject(i) })
	}
	a.renderRels()
}

func (a *App) renderRels() {
	a.relH.release()
	list := byID(IDRelationships)
	clearNode(list)
	preds := a.predicates()
	for i, r := range a.graph.Relationships {
		i := i
		subj := a.objectSelect(r.Subject, "Subject of relationship "+strconv.Itoa(i))
		obj := a.objectSelect(r.Object, "Object of relationship "+strconv.Itoa(i))
		pred := el("select", attrs{"aria-label": "Predicate of relationship " + strconv.Itoa(i)})
		opts := preds
		if !slices.Contains(preds, r.Predicate) {
			opts = append([]string{r.Predicate}, preds...) // keep the user's word
		}
		for _, p := range opts {
			o := el("option", attrs{"value": p}, p)
			if p == r.Predicate {
				o.Call("setAttribute", "selected", "")
			}
			pred.Call("appendChild", o)
		}
		del := el("button", attrs{"type": "button", "aria-label": "Remove relationship " + strconv.Itoa(i)}, "✕")
		list.Call("appendChild", el("li", nil, subj, pred, obj, del))
		a.relH.on(subj, "change", func(js.Value) {
			a.graph.Relationships[i].Subject = subj.Get("selectedIndex").Int()
			a.changed(false)
		})
		a.relH.on(obj, "change", func(js.Value) {
			a.graph.Relationships[i].Object = obj.Get("selectedIndex").Int()
			a.changed(false)
		})
		a.relH.on(pred, "change", func(js.Value) {
			a.graph.Relationships[i].Predicate = pred.Get("value").String()
			a.changed(false)
		})
		a.relH.on(del, "click", func(js.Value) {
			a.graph.Relationships = slices.Delete(a.graph.Relationships, i, i+1)
			a.changed(false)
		})
	}
}

func (a *App) objectSelect(selected int, label string) js.Value {
	s := el("select", attrs{"aria-label": label})
	for j, name := range a.graph.Objects {
		o := el("option", attrs{"value": strconv.Itoa(j)}, strconv.Itoa(j)+": "+name)
		if j == selected {
			o.Call("setAttribute", "selected", "")
		}
		s.Call("appendChild", o)
	}
	return s
}

// moveObject swaps objects i and j, keeping relationships on the same objects.
func (a *App) moveObject(i, j int) {
	g := &a.graph
	if j < 0 || j >= len(g.Objects) {
		return
	}
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
	if a.boxes != nil {
		a.boxes[i], a.boxes[j] = a.boxes[j], a.boxes[i]
	}
	a.changed(false)
	a.focusRowButton(j)
}

// removeObject drops object i and the relationships that use it.
func (a *App) removeObject(i int) {
	g := &a.graph
	g.Objects = slices.Delete(g.Objects, i, i+1)
	var kept []model.Relationship
	for _, r := range g.Relationships {
		if r.Subject == i || r.Object == i {
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
	g.Relationships = kept
	if a.boxes != nil {
		a.boxes = slices.Delete(a.boxes, i, i+1)
	}
	a.changed(false)
}

func (a *App) focusRowButton(row int) {
	items := byID(IDObjects).Call("querySelectorAll", "li input")
	if row < items.Get("length").Int() {
		items.Index(row).Call("focus")
	}
}

// renderGallery lists the examples this model can draw.
func (a *App) renderGallery() {
	a.galH.release()
	box := byID(IDGallery)
	clearNode(box)
	for _, ex := range Gallery(a.vocab) {
		ex := ex
		b := el("button", attrs{"type": "button", "title": ex.Text}, ex.Title)
		box.Call("appendChild", b)
		a.galH.on(b, "click", func(js.Value) {
			a.useText(ex.Text)
			a.changed(false)
		})
	}
}
