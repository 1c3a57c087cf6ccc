package train

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/internal/atomicfile"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/viz"
)

// Sample sheet geometry, in pixels.
const (
	sampleImages = 8   // rows of a sheet
	sampleCell   = 128 // smallest side of a cell; small images are scaled up
	sampleGap    = 4
	sampleHeader = 16 // the row of column titles (basicfont is 13 high)
)

var sampleColumns = [3]string{"real", "real layout", "predicted layout"}

// sampleBatch is the fixed batch every sample sheet shows: up to
// sampleImages examples spread over the validation set (the training set
// without one), each with its own seeded relationships.
func (r *run) sampleBatch() *data.TrainBatch {
	ds := r.valDS
	if ds == nil {
		ds = r.trainDS
	}
	n := min(sampleImages, ds.Len())
	var exs []*data.Example
	for k := 0; k < n; k++ {
		i := k * ds.Len() / n
		rng := rand.New(rand.NewPCG(deriveSeed(r.cfg.Seed, seedSamples, uint64(i)), 0))
		ex, err := ds.Example(i, rng)
		if err != nil {
			r.logf("warning: sample sheet: example %d: %v", i, err)
			continue
		}
		exs = append(exs, ex)
	}
	if len(exs) == 0 {
		return nil
	}
	return data.Collate(exs, r.n.g.Config.MaskSize)
}

// writeSamples draws the sample sheet: per image, the real image with its
// boxes, the image generated from the real boxes and masks, and the image
// generated from the predicted layout with the predicted boxes. The
// generator runs in eval mode with a fixed noise seed, so sheets of
// successive checkpoints compare.
func (r *run) writeSamples(path string) error {
	g, b := r.n.g, r.sample
	seed := deriveSeed(r.cfg.Seed, seedSamples, math.MaxUint32)
	opt := model.Options{Boxes: b.Boxes, Masks: b.Masks, Seed: seed}
	if g.Config.MaskSize == 0 {
		opt.Masks = nil
	}
	withReal, err := g.Forward(&b.Batch, opt)
	if err != nil {
		return err
	}
	withPred, err := g.Forward(&b.Batch, model.Options{Seed: seed})
	if err != nil {
		return err
	}
	for _, out := range []*model.Output{withReal, withPred} {
		if err := model.CheckFinite(out.Img); err != nil {
			return fmt.Errorf("sample sheet not written: %w (training diverged?)", err)
		}
	}
	cols := [3][]*image.RGBA{model.Deprocess(b.Images), model.Deprocess(withReal.Img), model.Deprocess(withPred.Img)}
	boxes := [3][]float32{b.Boxes.Data, b.Boxes.Data, withPred.BoxesPred.Data}
	sheet := drawSheet(cols, boxes, &b.Batch, g.Config.Vocab)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WritePNG(path, sheet)
}

func drawSheet(cols [3][]*image.RGBA, boxes [3][]float32, b *model.Batch, v *model.Vocab) *image.RGBA {
	H, W := cols[0][0].Rect.Dy(), cols[0][0].Rect.Dx()
	scale := max(1, (sampleCell+min(H, W)-1)/min(H, W))
	cw, ch := W*scale, H*scale
	N := len(cols[0])
	sheet := image.NewRGBA(image.Rect(0, 0, 3*cw+4*sampleGap, sampleHeader+N*(ch+sampleGap)+sampleGap))
	draw.Draw(sheet, sheet.Rect, image.White, image.Point{}, draw.Src)
	for c, title := range sampleColumns {
		viz.Text(sheet, sampleGap+c*(cw+sampleGap)+2, 12, title, color.Black)
	}
	imageID := v.ObjectNameToIdx[model.ImageObject]
	for i := 0; i < N; i++ {
		y0 := sampleHeader + i*(ch+sampleGap)
		for c := range cols {
			cell := image.Rect(sampleGap+c*(cw+sampleGap), y0, sampleGap+c*(cw+sampleGap)+cw, y0+ch)
			viz.Scale(sheet, cell, cols[c][i])
			k := 0 // colour index within the image
			for o, id := range b.Objs {
				if b.ObjToImg[o] != i || id == imageID {
					continue
				}
				bx := boxes[c][4*o : 4*o+4]
				r := image.Rect(
					cell.Min.X+int(math.Round(float64(bx[0])*float64(cw))), cell.Min.Y+int(math.Round(float64(bx[1])*float64(ch))),
					cell.Min.X+int(math.Round(float64(bx[2])*float64(cw))), cell.Min.Y+int(math.Round(float64(bx[3])*float64(ch)))).
					Intersect(cell)
				col := viz.Color(k)
				viz.Outline(sheet, r, col)
				name := ""
				if id >= 0 && id < len(v.ObjectIdxToName) {
					name = v.ObjectIdxToName[id]
				}
				viz.Text(sheet, r.Min.X+2, r.Min.Y+11, name, col)
				k++
			}
		}
	}
	return sheet
}
