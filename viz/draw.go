package viz

import (
	"image"
	"image/color"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Outline draws the one-pixel border of r.
func Outline(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	if r.Empty() {
		return
	}
	for x := r.Min.X; x < r.Max.X; x++ {
		img.SetRGBA(x, r.Min.Y, c)
		img.SetRGBA(x, r.Max.Y-1, c)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		img.SetRGBA(r.Min.X, y, c)
		img.SetRGBA(r.Max.X-1, y, c)
	}
}

// Scale copies src into the rectangle r of dst by nearest-neighbour
// scaling, so that small generated images stay crisp when shown large.
func Scale(dst *image.RGBA, r image.Rectangle, src *image.RGBA) {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			s := src.PixOffset(src.Rect.Min.X+(x-r.Min.X)*sw/r.Dx(), src.Rect.Min.Y+(y-r.Min.Y)*sh/r.Dy())
			copy(dst.Pix[dst.PixOffset(x, y):][:4], src.Pix[s:s+4])
		}
	}
}

// Text writes s in the 7x13 bitmap font with its baseline at (x, y).
func Text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
