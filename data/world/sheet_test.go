package world

import (
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"testing"
)

var sheetOut = flag.String("sheet", "", "write a contact sheet of 32 scenes (seed 1) to this PNG file, e.g. testdata/contact.png")
var sheetScale = flag.Int("sheet_scale", 1, "upscale factor of the contact sheet (nearest neighbour)")
var galleryOut = flag.String("gallery", "", "write 14 crops (24x24 image pixels, upscaled 4x) of each thing category to this PNG file")

// sheet lays scenes out in a grid, 2 pixels apart, each pixel drawn
// scale x scale.
func sheet(scenes []*Scene, cols, scale int) *image.RGBA {
	s := scenes[0].Size * scale
	gap := 2 * scale
	rows := (len(scenes) + cols - 1) / cols
	img := image.NewRGBA(image.Rect(0, 0, cols*(s+gap)+gap, rows*(s+gap)+gap))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for k, sc := range scenes {
		ox, oy := gap+(k%cols)*(s+gap), gap+(k/cols)*(s+gap)
		for y := 0; y < s; y++ {
			for x := 0; x < s; x++ {
				i := 3 * ((y/scale)*sc.Size + x/scale)
				img.Set(ox+x, oy+y, color.RGBA{sc.Pix[i], sc.Pix[i+1], sc.Pix[i+2], 255})
			}
		}
	}
	return img
}

func TestContactSheet(t *testing.T) {
	if *sheetOut == "" {
		t.Skip("no -sheet file")
	}
	opts := DefaultOptions()
	opts.Seed = 1
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var scenes []*Scene
	for i := 0; i < 32; i++ {
		sc, err := w.Scene(i)
		if err != nil {
			t.Fatal(err)
		}
		scenes = append(scenes, sc)
		t.Logf("scene %d: %v", i, names(sc))
	}
	f, err := os.Create(*sheetOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, sheet(scenes, 8, *sheetScale)); err != nil {
		t.Fatal(err)
	}
}

func names(sc *Scene) []string {
	var out []string
	for _, o := range sc.Objects {
		out = append(out, o.Name)
	}
	return out
}

// TestGallery shows each thing category as the images show it, one row a
// category, to judge that the looks stay recognisable at the image size.
func TestGallery(t *testing.T) {
	if *galleryOut == "" {
		t.Skip("no -gallery file")
	}
	w := newWorld(t, func(o *Options) { o.Seed = 11 })
	const per, cell, sc4 = 14, 24, 4
	crops := map[int][]*image.RGBA{}
	for i := 0; i < 600; i++ {
		s := scene(t, w, i)
		for _, o := range s.Objects {
			if o.Stuff || len(crops[o.Category]) >= per {
				continue
			}
			b := o.PixBox
			cx, cy := (b[0]+b[2])/2, (b[1]+b[3])/2
			img := image.NewRGBA(image.Rect(0, 0, cell*sc4, cell*sc4))
			for y := 0; y < cell*sc4; y++ {
				for x := 0; x < cell*sc4; x++ {
					px, py := cx-cell/2+x/sc4, cy-cell/2+y/sc4
					if px < 0 || py < 0 || px >= s.Size || py >= s.Size {
						continue
					}
					k := 3 * (py*s.Size + px)
					img.Set(x, y, color.RGBA{s.Pix[k], s.Pix[k+1], s.Pix[k+2], 255})
				}
			}
			crops[o.Category] = append(crops[o.Category], img)
		}
	}
	rows := numCategories - firstThing
	out := image.NewRGBA(image.Rect(0, 0, per*(cell*sc4+4), rows*(cell*sc4+4)))
	for r := 0; r < rows; r++ {
		for k, c := range crops[firstThing+r] {
			ox, oy := k*(cell*sc4+4), r*(cell*sc4+4)
			for y := 0; y < cell*sc4; y++ {
				for x := 0; x < cell*sc4; x++ {
					out.Set(ox+x, oy+y, c.At(x, y))
				}
			}
		}
	}
	f, err := os.Create(*galleryOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, out); err != nil {
		t.Fatal(err)
	}
}
