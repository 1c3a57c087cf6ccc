package eval

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"strings"

	"github.com/sg2im-go/sg2im/data/world"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/viz"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Sheet geometry: each row is the graph's text, the predicted layout and
// the image, the pictures scaled to sheetSide pixels.
const (
	sheetSide  = 128
	sheetText  = 230
	sheetPad   = 6
	sheetLineH = 14
)

// Sheet draws n held-out world graphs as the model sees them: one row per
// scene with the graph in the one-line syntax, the predicted layout and
// the generated image (seed i for scene i). The scenes and triples are
// those Run evaluates for the same seed.
func Sheet(g *model.Generator, n int, seed uint64) (*image.RGBA, error) {
	cfg := &g.Config
	wopts := world.DefaultOptions()
	wopts.Seed, wopts.N, wopts.Heldout, wopts.ImageSize = seed, max(n, 1), true, cfg.ImageSize[0]
	w, err := world.New(wopts)
	if err != nil {
		return nil, fmt.Errorf("eval: %v", err)
	}
	cats, preds := world.Categories(), world.Predicates()
	rowH := sheetSide + 2*sheetPad
	sheet := image.NewRGBA(image.Rect(0, 0, sheetText+2*sheetSide+4*sheetPad, n*rowH))
	draw.Draw(sheet, sheet.Bounds(), image.White, image.Point{}, draw.Src)
	for i := 0; i < n; i++ {
		ex, err := w.Example(i, rand.New(rand.NewPCG(seed^tripleSalt, uint64(i))))
		if err != nil {
			return nil, err
		}
		var sg model.SceneGraph
		for _, id := range ex.Objs[:len(ex.Objs)-1] { // __image__ is last
			sg.Objects = append(sg.Objects, cats[id])
		}
		for _, t := range ex.Triples {
			if p := preds[t[1]]; p != model.InImagePred {
				sg.Relationships = append(sg.Relationships, model.Relationship{Subject: t[0], Predicate: p, Object: t[2]})
			}
		}
		b, err := model.Encode([]model.SceneGraph{sg}, cfg.Vocab)
		if err != nil {
			return nil, err
		}
		boxes := nn.New(len(ex.Boxes), 4)
		for j, bx := range ex.Boxes {
			copy(boxes.Data[4*j:], bx[:])
		}
		out, err := g.Forward(b, model.Options{Seed: uint64(i), Instances: instances(g, b, boxes)})
		if err == nil {
			err = model.CheckFinite(out.Img)
		}
		if err != nil {
			return nil, err
		}
		var masks []float32
		if out.MasksPred != nil {
			masks = out.MasksPred.Data
		}
		objs := viz.Objects(sg.Objects, out.BoxesPred.Data, masks, cfg.MaskSize)
		y := i*rowH + sheetPad
		writeWrapped(sheet, model.FormatText(sg), sheetPad, y+11, sheetText-sheetPad)
		x := sheetText + sheetPad
		draw.Draw(sheet, image.Rect(x, y, x+sheetSide, y+sheetSide), viz.Layout(objs, sheetSide, sheetSide), image.Point{}, draw.Src)
		x += sheetSide + sheetPad
		viz.Scale(sheet, image.Rect(x, y, x+sheetSide, y+sheetSide), model.Deprocess(out.Img)[0])
	}
	return sheet, nil
}

// writeWrapped writes text in lines no wider than width, breaking at the
// clause separators and spaces.
func writeWrapped(dst *image.RGBA, text string, x, y, width int) {
	face := basicfont.Face7x13
	d := font.Drawer{Dst: dst, Src: image.NewUniform(color.RGBA{40, 40, 40, 255}), Face: face}
	line := ""
	flush := func() {
		d.Dot = fixed.P(x, y)
		d.DrawString(line)
		y += sheetLineH
		line = ""
	}
	for _, word := range strings.Fields(text) {
		next := strings.TrimSpace(line + " " + word)
		if line != "" && font.MeasureString(face, next).Ceil() > width {
			flush()
			next = word
		}
		line = next
	}
	if line != "" {
		flush()
	}
}
