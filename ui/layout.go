//go:build js && wasm

package ui

import (
	"math"
	"sort"
	"strconv"
	"syscall/js"

	"github.com/sg2im-go/sg2im/viz"
)

// layoutScale is how many canvas pixels the mask drawing uses per image
// pixel, so that masks look crisp when the layout is shown large.
const layoutScale = 4

// drag is a pointer gesture on the layout: moving or resizing box i, or
// drawing a new one.
type drag struct {
	mode   string // "", "move", "resize", "draw"
	i      int
	x, y   float64 // where it started, in client pixels
	start  [4]float32
	cur    [4]float32
	node   js.Value
	moved  bool
	target js.Value
}

// renderLayout draws the masks on the canvas and a box per object, the
// smaller ones on top.
func (a *App) renderLayout() {
	if a.drag.mode != "" || a.result == nil {
		return
	}
	r := a.result
	n := min(len(a.s.Graph.Objects), len(r.Boxes))
	a.shown = append([][4]float32(nil), r.Boxes[:n]...)
	var objs []viz.Object
	for i, b := range a.shown {
		o := viz.Object{X0: b[0], Y0: b[1], X1: b[2], Y1: b[3]}
		if i < len(r.Masks) {
			o.Mask, o.M = r.Masks[i], r.MaskSize
		}
		objs = append(objs, o)
	}
	w, h := r.Width*layoutScale, r.Height*layoutScale
	putPixels(byID(IDLayoutCanvas), viz.Layout(objs, w, h).Pix, w, h)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return area(a.shown[order[x]]) > area(a.shown[order[y]]) })
	a.keepFocus(func() {
		box := byID(IDLayout)
		a.layH.release()
		for _, nd := range nodeList(box.Call("querySelectorAll", ".box")) {
			nd.Call("remove")
		}
		for _, i := range order {
			box.Call("appendChild", a.boxNode(i))
		}
	})
	a.renderPins()
}

func area(b [4]float32) float32 { return (b[2] - b[0]) * (b[3] - b[1]) }

func nodeList(v js.Value) []js.Value {
	out := make([]js.Value, v.Get("length").Int())
	for i := range out {
		out[i] = v.Index(i)
	}
	return out
}

// boxNode makes object i's box; the keys move it (arrows), resize it
// (Shift+arrows), unpin it (U) or draw its object's look anew (L).
func (a *App) boxNode(i int) js.Value {
	c := viz.Color(i)
	ref := refsOf(a.s.Graph.Objects)[i]
	pinned := i < len(a.s.Pinned) && a.s.Pinned[i]
	label := "Box of " + ref + " (object " + strconv.Itoa(i) + ")"
	cls := "box"
	if pinned {
		label += ", pinned; arrows move, Shift+arrows resize, U unpins"
		cls += " pinned"
	} else {
		label += ", placed by the model; arrows move it and pin it, Shift+arrows resize"
	}
	if a.hasLooks() {
		label += ", L draws a new look"
	}
	text := ref
	if pinned {
		text = ref + " (pinned)"
	}
	n := el("div", attrs{"class": cls, "tabindex": "0", "role": "button", "data-i": strconv.Itoa(i),
		"data-key": "box-" + strconv.Itoa(i), "aria-label": label},
		el("span", attrs{"class": "label", "aria-hidden": "true"}, text),
		el("span", attrs{"class": "handle", "aria-hidden": "true"}))
	n.Get("style").Set("borderColor", rgb(c))
	ls := n.Call("querySelector", ".label").Get("style")
	ls.Set("background", rgb(c))
	ls.Set("color", inkOn(c))
	place(n, a.shown[i])
	a.layH.on(n, "keydown", func(ev js.Value) { a.boxKey(ev, n, i) })
	return n
}

// place sets a box node's position from a box in [0, 1].
func place(n js.Value, b [4]float32) {
	style := n.Get("style")
	style.Set("left", pct(b[0]))
	style.Set("top", pct(b[1]))
	style.Set("width", pct(b[2]-b[0]))
	style.Set("height", pct(b[3]-b[1]))
}

// boxKey moves, resizes or unpins a focused box, or draws its object's
// look anew (L). A run of arrow presses on one box is one undo step.
func (a *App) boxKey(ev js.Value, n js.Value, i int) {
	const step = 0.02
	var dx, dy float32
	switch ev.Get("key").String() {
	case "ArrowLeft":
		dx = -step
	case "ArrowRight":
		dx = step
	case "ArrowUp":
		dy = -step
	case "ArrowDown":
		dy = step
	case "u", "U":
		ev.Call("preventDefault")
		a.apply("", func() { a.s.Unpin(i) })
		return
	case "l", "L":
		if a.hasLooks() {
			ev.Call("preventDefault")
			a.newLook(i)
		}
		return
	default:
		return
	}
	ev.Call("preventDefault")
	m := "move"
	if ev.Get("shiftKey").Bool() {
		m = "resize"
	}
	b := editBox(a.shown[i], m, dx, dy)
	a.shown[i] = b
	place(n, b)
	a.apply("box"+strconv.Itoa(i), func() { a.s.Pin(i, b) })
}

// buildLayoutHandlers handles the pointer on the layout as a whole, so
// that a press picks the innermost box under it (the sheep inside the
// grass), a corner handle resizes, and a press on no box draws a new one.
func (a *App) buildLayoutHandlers() {
	lay := byID(IDLayout)
	a.h.on(lay, "pointerdown", func(ev js.Value) {
		if ev.Get("button").Int() != 0 {
			return
		}
		x, y := a.layoutPoint(ev)
		d := drag{x: ev.Get("clientX").Float(), y: ev.Get("clientY").Float(), i: -1}
		t := ev.Get("target")
		cl := t.Get("classList")
		switch {
		case cl.Call("contains", "handle").Bool():
			d.mode, d.i = "resize", boxIndex(t.Get("parentElement"))
		case cl.Call("contains", "label").Bool():
			d.mode, d.i = "move", boxIndex(t.Get("parentElement"))
		case ev.Get("shiftKey").Bool() && a.info != nil:
			d.mode = "draw" // a new box over the others
		default:
			if d.i = innermostBox(a.shown, x, y); d.i >= 0 {
				d.mode = "move"
			} else if a.info != nil {
				d.mode = "draw"
			}
		}
		if d.mode == "" || d.i >= len(a.shown) {
			return
		}
		ev.Call("preventDefault")
		if d.mode == "draw" {
			d.start = [4]float32{x, y, x, y}
			d.node = el("div", attrs{"class": "box drawing", "aria-hidden": "true"})
			lay.Call("appendChild", d.node)
		} else {
			d.start = a.shown[d.i]
			d.node = lay.Call("querySelector", `.box[data-i="`+strconv.Itoa(d.i)+`"]`)
			d.node.Call("focus")
		}
		d.cur = d.start
		a.drag = d
		lay.Call("setPointerCapture", ev.Get("pointerId"))
	})
	a.h.on(lay, "pointermove", func(ev js.Value) { a.dragMove(ev) })
	a.h.on(lay, "pointerup", func(js.Value) { a.dragEnd(true) })
	a.h.on(lay, "pointercancel", func(js.Value) { a.dragEnd(false) })
	a.h.on(byID(IDResetBoxes), "click", func(js.Value) {
		a.apply("", func() { a.s.Unpin(-1) })
		focusKey("box-0")
	})
}

func boxIndex(n js.Value) int {
	i, err := strconv.Atoi(n.Call("getAttribute", "data-i").String())
	if err != nil {
		return -1
	}
	return i
}

// layoutPoint is the pointer's place on the layout, in [0, 1].
func (a *App) layoutPoint(ev js.Value) (float32, float32) {
	rect := byID(IDLayout).Call("getBoundingClientRect")
	x := (ev.Get("clientX").Float() - rect.Get("left").Float()) / rect.Get("width").Float()
	y := (ev.Get("clientY").Float() - rect.Get("top").Float()) / rect.Get("height").Float()
	return float32(x), float32(y)
}

func (a *App) dragMove(ev js.Value) {
	d := &a.drag
	if d.mode == "" {
		return
	}
	rect := byID(IDLayout).Call("getBoundingClientRect")
	dx := float32((ev.Get("clientX").Float() - d.x) / rect.Get("width").Float())
	dy := float32((ev.Get("clientY").Float() - d.y) / rect.Get("height").Float())
	if math.Abs(float64(dx))+math.Abs(float64(dy)) > 0.005 {
		d.moved = true
	}
	if d.mode == "draw" {
		x, y := a.layoutPoint(ev)
		x, y = clamp01(x), clamp01(y)
		d.cur = [4]float32{min(d.start[0], x), min(d.start[1], y), max(d.start[0], x), max(d.start[1], y)}
	} else {
		d.cur = editBox(d.start, d.mode, dx, dy)
		a.shown[d.i] = d.cur
	}
	place(d.node, d.cur)
}

// dragEnd pins a moved box, or adds the object of a drawn one.
func (a *App) dragEnd(commit bool) {
	d := a.drag
	if d.mode == "" {
		return
	}
	a.drag = drag{}
	switch {
	case d.mode == "draw":
		d.node.Call("remove")
		if commit && d.cur[2]-d.cur[0] >= minBox && d.cur[3]-d.cur[1] >= minBox {
			a.addDrawn(d.cur)
		}
	case commit && d.moved:
		a.apply("", func() { a.s.Pin(d.i, d.cur) })
	case !commit:
		place(d.node, d.start)
		a.shown[d.i] = d.start
	}
}

// addDrawn adds an object pinned in a box the user drew, and puts the
// focus on its name to be typed.
func (a *App) addDrawn(b [4]float32) {
	name := a.defaultObject()
	a.apply("", func() {
		a.s.Graph.Objects = append(slicesClone(a.s.Graph.Objects), name)
		a.s.Pin(len(a.s.Graph.Objects)-1, b)
	})
	i := len(a.s.Graph.Objects) - 1
	a.note("Added " + name + " in the box you drew; give it its name in the list of objects (object " + strconv.Itoa(i) + ").")
	focusKey("obj-" + strconv.Itoa(i))
	byID(IDObjects).Call("querySelector", `[data-key="obj-`+strconv.Itoa(i)+`"]`).Call("select")
}

func clamp01(v float32) float32 { return max(0, min(1, v)) }

// renderPins lists the pinned boxes, each with a button to unpin it.
func (a *App) renderPins() {
	list := byID(IDPins)
	a.pinH.release()
	clearNode(list)
	refs := refsOf(a.s.Graph.Objects)
	count := 0
	for i, p := range a.s.Pinned {
		if !p || i >= len(refs) {
			continue
		}
		count++
		i := i
		b := el("button", attrs{"type": "button", "data-key": "unpin-" + strconv.Itoa(i), "aria-label": "Unpin " + refs[i] + "'s box"}, "Unpin "+refs[i])
		a.pinH.on(b, "click", func(js.Value) {
			a.apply("", func() { a.s.Unpin(i) })
			focusKey("box-"+strconv.Itoa(i), IDResetBoxes)
		})
		list.Call("appendChild", el("li", nil, b))
	}
	setDisabled(byID(IDResetBoxes), count == 0)
}

func pct(v float32) string { return strconv.FormatFloat(float64(v)*100, 'f', 2, 64) + "%" }

// minBox is the smallest box side, as a fraction of the image.
const minBox = 0.04

// editBox moves or resizes a box by (dx, dy), keeping it inside the image
// and at least minBox wide and high.
func editBox(b [4]float32, mode string, dx, dy float32) [4]float32 {
	clamp := func(v, lo, hi float32) float32 { return max(lo, min(hi, v)) }
	if mode == "resize" {
		b[2] = clamp(b[2]+dx, b[0]+minBox, 1)
		b[3] = clamp(b[3]+dy, b[1]+minBox, 1)
		return b
	}
	w, h := b[2]-b[0], b[3]-b[1]
	b[0] = clamp(b[0]+dx, 0, 1-w)
	b[1] = clamp(b[1]+dy, 0, 1-h)
	b[2], b[3] = b[0]+w, b[1]+h
	return b
}
