// Package viz draws scene layouts: every object's mask in a colour of its
// own inside its box, the box outlined and labelled with the object's name.
package viz

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Object is one object of a layout in image coordinates [0, 1].
type Object struct {
	Name           string
	X0, Y0, X1, Y1 float32
	// Mask is M x M values in [0, 1] over the box, row-major; nil paints
	// the whole box.
	Mask []float32
	M    int
}

// Objects pairs names with a generator's flat outputs: boxes holds four
// values per object and masks, unless nil, m*m per object, both starting
// at the first name's object.
func Objects(names []string, boxes, masks []float32, m int) []Object {
	objs := make([]Object, len(names))
	for i, name := range names {
		b := boxes[i*4 : i*4+4]
		objs[i] = Object{Name: name, X0: b[0], Y0: b[1], X1: b[2], Y1: b[3]}
		if masks != nil {
			objs[i].Mask, objs[i].M = masks[i*m*m:(i+1)*m*m], m
		}
	}
	return objs
}

// Layout draws objects on a w x h white canvas.
func Layout(objs []Object, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i, o := range objs {
		paintMask(img, o, Color(i))
	}
	for i, o := range objs {
		r := boxRect(o, w, h)
		Outline(img, r, Color(i))
		label(img, r, o.Name, Color(i))
	}
	return img
}

// Color is a distinct saturated colour for object i (golden-angle hues).
func Color(i int) color.RGBA {
	hue := math.Mod(float64(i)*137.508, 360)
	return hsv(hue, 0.75, 0.85)
}

func hsv(h, s, v float64) color.RGBA {
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	var r, g, b float64
	switch {
	case h < 60:
		r, g = c, x
	case h < 120:
		r, g = x, c
	case h < 180:
		g, b = c, x
	case h < 240:
		g, b = x, c
	case h < 300:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := v - c
	return color.RGBA{uint8((r + m) * 255), uint8((g + m) * 255), uint8((b + m) * 255), 255}
}

func boxRect(o Object, w, h int) image.Rectangle {
	clamp := func(v float32, n int) int {
		return max(0, min(n, int(math.Round(float64(v)*float64(n)))))
	}
	return image.Rect(clamp(o.X0, w), clamp(o.Y0, h), clamp(o.X1, w), clamp(o.Y1, h))
}

// paintMask blends the object's colour over its box, weighted by the mask
// (sampled at the nearest mask cell) and a fixed opacity.
func paintMask(img *image.RGBA, o Object, c color.RGBA) {
	const opacity = 0.6
	r := boxRect(o, img.Rect.Dx(), img.Rect.Dy())
	bw, bh := r.Dx(), r.Dy()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			a := float32(1)
			if o.Mask != nil && o.M > 0 {
				mx := min(o.M-1, (x-r.Min.X)*o.M/bw)
				my := min(o.M-1, (y-r.Min.Y)*o.M/bh)
				a = o.Mask[my*o.M+mx]
			}
			a = max(0, min(1, a)) * opacity
			p := img.PixOffset(x, y)
			for k, v := range [3]uint8{c.R, c.G, c.B} {
				old := float32(img.Pix[p+k])
				img.Pix[p+k] = uint8(old + (float32(v)-old)*a)
			}
		}
	}
}

// label writes the name in white on the box colour at the box's top-left.
func label(img *image.RGBA, r image.Rectangle, name string, c color.RGBA) {
	if name == "" {
		return
	}
	face := basicfont.Face7x13
	width := font.MeasureString(face, name).Ceil()
	bg := image.Rect(r.Min.X, r.Min.Y, r.Min.X+width+2, r.Min.Y+13).Intersect(img.Rect)
	draw.Draw(img, bg, image.NewUniform(c), image.Point{}, draw.Src)
	d := font.Drawer{Dst: img, Src: image.White, Face: face,
		Dot: fixed.P(r.Min.X+1, r.Min.Y+10)}
	d.DrawString(name)
}
