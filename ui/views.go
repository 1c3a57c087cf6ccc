//go:build js && wasm

package ui

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"

	"golang.org/x/image/draw"

	"github.com/sg2im-go/sg2im/protocol"
	"github.com/sg2im-go/sg2im/viz"
)

// renderGraph draws the scene graph as SVG: objects in their layout
// colours, predicates as grey ovals between them.
func (a *App) renderGraph() {
	svg := byID(IDGraphSVG)
	clearNode(svg)
	g := a.s.Graph
	g.Objects = refsOf(g.Objects)
	d := layoutGraph(g)
	svg.Call("setAttribute", "viewBox", fmt.Sprintf("0 0 %s %s", f(d.W), f(d.H)))
	// A large graph keeps readable text and scrolls in its panel.
	width := "100%"
	if d.W > maxFitWidth {
		width = f(d.W*largeGraphScale) + "px"
	}
	svg.Get("style").Set("width", width)
	marker := svgEl("defs", nil, svgEl("marker", attrs{"id": "arrow", "viewBox": "0 0 10 10", "refX": "10", "refY": "5",
		"markerWidth": "6", "markerHeight": "6", "orient": "auto-start-reverse"},
		svgEl("path", attrs{"d": "M 0 0 L 10 5 L 0 10 z", "class": "arrow"})))
	svg.Call("appendChild", marker)
	for _, p := range d.Preds {
		r := g.Relationships[p.Index]
		s, o := d.Objects[r.Subject], d.Objects[r.Object]
		svg.Call("appendChild", svgEl("line", attrs{"x1": f(s.X), "y1": f(s.Y), "x2": f(p.X), "y2": f(p.Y), "class": "edge"}))
		svg.Call("appendChild", svgEl("line", attrs{"x1": f(p.X), "y1": f(p.Y), "x2": f(o.X), "y2": f(o.Y), "class": "edge", "marker-end": "url(#arrow)"}))
	}
	for _, p := range d.Preds {
		svg.Call("appendChild", svgEl("g", attrs{"class": "pred"},
			svgEl("ellipse", attrs{"cx": f(p.X), "cy": f(p.Y), "rx": f(p.W / 2), "ry": f(p.H / 2)}),
			svgEl("text", attrs{"x": f(p.X), "y": f(p.Y + 4)}, p.Label)))
	}
	for _, o := range d.Objects {
		c := viz.Color(o.Index)
		svg.Call("appendChild", svgEl("g", attrs{"class": "obj"},
			svgEl("rect", attrs{"x": f(o.X - o.W/2), "y": f(o.Y - o.H/2), "width": f(o.W), "height": f(o.H), "rx": "6",
				"fill": rgb(c)}),
			svgEl("text", attrs{"x": f(o.X), "y": f(o.Y + 5), "fill": inkOn(c)}, o.Label)))
	}
}

// A graph drawing wider than maxFitWidth is shown at largeGraphScale
// (text at 9 px) and scrolls, rather than shrinking to fit.
const (
	maxFitWidth     = 520
	largeGraphScale = 0.75
)

func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func rgb(c color.RGBA) string { return fmt.Sprintf("rgb(%d,%d,%d)", c.R, c.G, c.B) }

// inkOn is black or white, whichever reads better on c (WCAG contrast).
func inkOn(c color.RGBA) string {
	if contrastWithWhite(c.R, c.G, c.B) >= contrastWithBlack(c.R, c.G, c.B) {
		return "#fff"
	}
	return "#000"
}

// renderImage shows the main image.
func (a *App) renderImage() {
	r := a.result
	putPixels(byID(IDImage), r.RGBA[0], r.Width, r.Height)
	if !a.firstDrawn {
		a.firstDrawn = true
		mark(markFirstImage)
	}
}

// User-timing marks of a visit's start, so that anyone (and the e2e
// tests) can see where the wait for the first image goes.
const (
	markPageStart  = "sg2im-page-start"  // the page's Go code begins
	markModelReady = "sg2im-model-ready" // a model is loaded and described
	markFirstImage = "sg2im-first-image" // the first image shows
)

func mark(name string) { window.Get("performance").Call("mark", name) }

// showVariation puts image k of the variations grid in place: the button
// stays (and keeps the focus), its picture and seed change.
func (a *App) showVariation(k int, r *protocol.ImagesInfo) {
	strip := byID(IDVariations)
	b := strip.Get("children").Index(k)
	if !b.Truthy() {
		b = el("button", attrs{"type": "button", "data-key": "var-" + strconv.Itoa(k)}, el("canvas", attrs{"class": "pixelated"}))
		strip.Call("appendChild", b)
	}
	seed := strconv.FormatUint(r.Seeds[0], 10)
	b.Call("setAttribute", "data-seed", seed)
	b.Call("setAttribute", "aria-label", "Use seed "+seed)
	putPixels(b.Get("firstChild"), r.RGBA[0], r.Width, r.Height)
	b.Get("classList").Call("remove", "stale")
}

// trimVariations drops the grid's images from n on.
func (a *App) trimVariations(n int) {
	strip := byID(IDVariations)
	for strip.Get("children").Length() > n {
		strip.Get("lastChild").Call("remove")
	}
}

// download saves the current image as a PNG, scaled as chosen: nearest
// neighbour keeps the pixels sharp, smooth interpolates.
func (a *App) download() {
	r := a.result
	if r == nil || len(r.RGBA) == 0 {
		return
	}
	var img image.Image = &image.RGBA{Pix: r.RGBA[0], Stride: 4 * r.Width, Rect: image.Rect(0, 0, r.Width, r.Height)}
	scale, _ := strconv.Atoi(byID(IDScale).Get("value").String())
	if scale > 1 {
		dst := image.NewRGBA(image.Rect(0, 0, r.Width*scale, r.Height*scale))
		var k draw.Interpolator = draw.NearestNeighbor
		if byID(IDSmooth).Get("checked").Bool() {
			k = draw.CatmullRom
		}
		k.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
		img = dst
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		a.status("Could not encode the PNG: " + err.Error())
		return
	}
	name := "sg2im-seed" + strconv.FormatUint(a.s.Seed, 10)
	if scale > 1 {
		name += "-" + strconv.Itoa(scale) + "x"
	}
	saveBytes(name+".png", "image/png", buf.Bytes())
}
