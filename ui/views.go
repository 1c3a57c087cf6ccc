//go:build js && wasm

package ui

import (
	"fmt"
	"math"
	"strconv"
	"syscall/js"

	"github.com/sg2im-go/sg2im/protocol"
	"github.com/sg2im-go/sg2im/viz"
)

// renderGraph draws the scene graph as SVG: objects in their layout
// colours, predicates as grey ovals between them.
func (a *App) renderGraph() {
	svg := byID(IDGraphSVG)
	clearNode(svg)
	d := layoutGraph(a.graph, 360, 260)
	marker := svgEl("defs", nil, svgEl("marker", attrs{"id": "arrow", "viewBox": "0 0 10 10", "refX": "10", "refY": "5",
		"markerWidth": "6", "markerHeight": "6", "orient": "auto-start-reverse"},
		svgEl("path", attrs{"d": "M 0 0 L 10 5 L 0 10 z", "class": "arrow"})))
	svg.Call("appendChild", marker)
	for _, p := range d.Preds {
		r := a.graph.Relationships[p.Index]
		s, o := d.Objects[r.Subject], d.Objects[r.Object]
		svg.Call("appendChild", svgEl("line", attrs{"x1": f(s.X), "y1": f(s.Y), "x2": f(p.X), "y2": f(p.Y), "class": "edge"}))
		svg.Call("appendChild", svgEl("line", attrs{"x1": f(p.X), "y1": f(p.Y), "x2": f(o.X), "y2": f(o.Y), "class": "edge", "marker-end": "url(#arrow)"}))
	}
	for _, p := range d.Preds {
		w := 8 + 6.5*float64(len(p.Label))
		svg.Call("appendChild", svgEl("g", attrs{"class": "pred"},
			svgEl("ellipse", attrs{"cx": f(p.X), "cy": f(p.Y), "rx": f(w / 2), "ry": "11"}),
			svgEl("text", attrs{"x": f(p.X), "y": f(p.Y + 4)}, p.Label)))
	}
	for _, o := range d.Objects {
		w := 14 + 7.5*float64(len(o.Label))
		c := viz.Color(o.Index)
		svg.Call("appendChild", svgEl("g", attrs{"class": "obj"},
			svgEl("rect", attrs{"x": f(o.X - w/2), "y": f(o.Y - 13), "width": f(w), "height": "26", "rx": "6",
				"fill": fmt.Sprintf("rgb(%d,%d,%d)", c.R, c.G, c.B)}),
			svgEl("text", attrs{"x": f(o.X), "y": f(o.Y + 5)}, o.Label)))
	}
}

func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// renderImage shows the main image.
func (a *App) renderImage() {
	r := a.result
	putPixels(byID(IDImage), r.RGBA[0], r.Width, r.Height)
}

// renderVariations fills the strip; choosing one makes its seed current.
func (a *App) renderVariations(r *protocol.ImagesInfo) {
	strip := byID(IDVariations)
	a.varH.release()
	clearNode(strip)
	for i, px := range r.RGBA {
		seed := r.Seeds[i]
		c := el("canvas", attrs{"class": "pixelated"})
		putPixels(c, px, r.Width, r.Height)
		b := el("button", attrs{"type": "button", "aria-label": "Use seed " + strconv.FormatUint(seed, 10)}, c)
		strip.Call("appendChild", b)
		a.varH.on(b, "click", func(js.Value) {
			a.seed = seed
			byID(IDSeed).Set("value", strconv.FormatUint(seed, 10))
			a.persist()
			a.generateNow()
		})
	}
}

// layoutScale is how many canvas pixels the mask drawing uses per image
// pixel, so that masks look crisp when the layout is shown large.
const layoutScale = 4

// renderLayout draws the masks on the canvas and a draggable box per object.
func (a *App) renderLayout() {
	if a.dragging {
		return
	}
	r := a.result
	box := byID(IDLayout)
	a.layH.release()
	for _, n := range nodeList(box.Call("querySelectorAll", ".box")) {
		n.Call("remove")
	}
	var objs []viz.Object
	for i := range a.graph.Objects {
		if i >= len(r.Boxes) {
			break
		}
		b := r.Boxes[i]
		o := viz.Object{X0: b[0], Y0: b[1], X1: b[2], Y1: b[3]}
		if i < len(r.Masks) {
			o.Mask, o.M = r.Masks[i], r.MaskSize
		}
		objs = append(objs, o)
	}
	w, h := r.Width*layoutScale, r.Height*layoutScale
	img := viz.Layout(objs, w, h)
	putPixels(byID(IDLayoutCanvas), img.Pix, w, h)
	boxes := make([][4]float32, len(r.Boxes))
	copy(boxes, r.Boxes)
	for i := range objs {
		a.boxNode(box, boxes, i)
	}
}

func nodeList(v js.Value) []js.Value {
	out := make([]js.Value, v.Get("length").Int())
	for i := range out {
		out[i] = v.Index(i)
	}
	return out
}

// boxNode adds object i's box; dragging or keys edit boxes[i] and, when
// done, make boxes the user's override.
func (a *App) boxNode(container js.Value, boxes [][4]float32, i int) {
	c := viz.Color(i)
	name := a.graph.Objects[i]
	handle := el("span", attrs{"class": "handle", "aria-hidden": "true"})
	n := el("div", attrs{"class": "box", "tabindex": "0", "role": "button",
		"aria-label": fmt.Sprintf("Box of %s (object %d); arrows move, Shift+arrows resize", name, i)},
		el("span", attrs{"class": "label"}, name), handle)
	style := n.Get("style")
	style.Set("borderColor", fmt.Sprintf("rgb(%d,%d,%d)", c.R, c.G, c.B))
	n.Call("querySelector", ".label").Get("style").Set("background", fmt.Sprintf("rgb(%d,%d,%d)", c.R, c.G, c.B))
	place := func() {
		b := boxes[i]
		style.Set("left", pct(b[0]))
		style.Set("top", pct(b[1]))
		style.Set("width", pct(b[2]-b[0]))
		style.Set("height", pct(b[3]-b[1]))
	}
	place()
	container.Call("appendChild", n)

	commit := func() {
		a.boxes = boxes
		a.generateNow()
	}
	var mode string
	var startX, startY float64
	var start [4]float32
	a.layH.on(n, "pointerdown", func(ev js.Value) {
		ev.Call("preventDefault")
		mode = "move"
		if ev.Get("target").Equal(handle) {
			mode = "resize"
		}
		startX, startY = ev.Get("clientX").Float(), ev.Get("clientY").Float()
		start = boxes[i]
		a.dragging = true
		n.Call("setPointerCapture", ev.Get("pointerId"))
		n.Call("focus")
	})
	a.layH.on(n, "pointermove", func(ev js.Value) {
		if mode == "" {
			return
		}
		rect := container.Call("getBoundingClientRect")
		dx := float32((ev.Get("clientX").Float() - startX) / rect.Get("width").Float())
		dy := float32((ev.Get("clientY").Float() - startY) / rect.Get("height").Float())
		boxes[i] = editBox(start, mode, dx, dy)
		place()
	})
	end := func(js.Value) {
		if mode == "" {
			return
		}
		mode = ""
		a.dragging = false
		commit()
	}
	a.layH.on(n, "pointerup", end)
	a.layH.on(n, "pointercancel", end)
	a.layH.on(n, "keydown", func(ev js.Value) {
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
		default:
			return
		}
		ev.Call("preventDefault")
		m := "move"
		if ev.Get("shiftKey").Bool() {
			m = "resize"
		}
		boxes[i] = editBox(boxes[i], m, dx, dy)
		place()
		commit()
	})
}

func pct(v float32) string { return strconv.FormatFloat(float64(v)*100, 'f', 2, 64) + "%" }

// editBox moves or resizes a box by (dx, dy), keeping it inside the image
// and at least minBox wide and high.
func editBox(b [4]float32, mode string, dx, dy float32) [4]float32 {
	const minBox = 0.04
	clamp := func(v, lo, hi float32) float32 {
		return float32(math.Max(float64(lo), math.Min(float64(hi), float64(v))))
	}
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
