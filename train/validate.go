package train

import (
	"math"
	"time"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/model"
)

// validate runs the generator in eval mode, without updating anything,
// over the same held-out batches at every checkpoint (up to
// NumValSamples images, at most one pass): the mean IoU of its predicted
// boxes against the real ones, __image__ left out, and the mean of its
// losses as the release's check_model computes them (real boxes and
// masks for the layout).
func (r *run) validate() (*ValRecord, error) {
	c := &r.cfg
	g := r.n.g
	imageID := g.Config.Vocab.ObjectNameToIdx[model.ImageObject]
	vseed := deriveSeed(c.Seed, seedVal, 0)
	loader := data.NewLoader(r.valDS, c.BatchSize, vseed, r.o.Workers)
	defer loader.Close()
	sums := map[string]float64{}
	batches, images, boxes := 0, 0, 0
	var iou float64
	maxImages := min(c.NumValSamples, r.valDS.Len())
	for images < maxImages {
		b, err := loader.Next()
		if err != nil {
			r.logf("warning: validation batch skipped: %v", err)
			images += c.BatchSize // a failing batch still counts towards the bound
			continue
		}
		opt := model.Options{Boxes: b.Boxes, Masks: b.Masks, Seed: deriveSeed(c.Seed, seedVal, uint64(batches+1))}
		if g.Config.MaskSize == 0 {
			opt.Masks = nil
		}
		out, err := g.Forward(&b.Batch, opt)
		if err != nil {
			return nil, err
		}
		for name, v := range evalLosses(c, out, b) {
			sums[name] += v
		}
		for o, id := range b.Objs {
			if id == imageID {
				continue
			}
			iou += boxIoU(out.BoxesPred.Data[4*o:4*o+4], b.Boxes.Data[4*o:4*o+4])
			boxes++
		}
		batches++
		images += b.NumImages
	}
	v := &ValRecord{T: r.st.T, Images: min(images, maxImages), Losses: map[string]float64{},
		Elapsed: r.st.Elapsed, Time: time.Now().UTC().Format(time.RFC3339)}
	for name, s := range sums {
		v.Losses[name] = s / float64(max(batches, 1))
	}
	if boxes > 0 {
		v.BoxIoU = iou / float64(boxes)
	}
	return v, nil
}

// evalLosses are calculate_model_losses' terms (unweighted) and their
// weighted total, in float64.
func evalLosses(c *Config, out *model.Output, b *data.TrainBatch) map[string]float64 {
	l := map[string]float64{
		"L1_pixel_loss": meanAbsDiff(out.Img.Data, b.Images.Data),
		"bbox_pred":     meanSqDiff(out.BoxesPred.Data, b.Boxes.Data),
	}
	total := c.L1PixelLossWeight*l["L1_pixel_loss"] + c.BBoxPredLossWeight*l["bbox_pred"]
	if c.MaskLossWeight > 0 && out.MasksPred != nil && b.Masks != nil {
		l["mask_loss"] = bce(out.MasksPred.Data, b.Masks.Data)
		total += c.MaskLossWeight * l["mask_loss"]
	}
	l["total_loss"] = total
	return l
}

func meanAbsDiff(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return s / float64(max(len(a), 1))
}

func meanSqDiff(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s / float64(max(len(a), 1))
}

// bce is binary cross-entropy of probabilities p against targets y, with
// the logarithms clamped at -100 as PyTorch does.
func bce(p, y []float32) float64 {
	var s float64
	for i := range p {
		lp := max(math.Log(float64(p[i])), -100)
		lq := max(math.Log(1-float64(p[i])), -100)
		s -= float64(y[i])*lp + (1-float64(y[i]))*lq
	}
	return s / float64(max(len(p), 1))
}

// boxIoU is the intersection over union of two (x0, y0, x1, y1) boxes; 0
// when the union is empty.
func boxIoU(a, b []float32) float64 {
	ix := math.Max(0, math.Min(float64(a[2]), float64(b[2]))-math.Max(float64(a[0]), float64(b[0])))
	iy := math.Max(0, math.Min(float64(a[3]), float64(b[3]))-math.Max(float64(a[1]), float64(b[1])))
	inter := ix * iy
	area := func(x []float32) float64 {
		return math.Max(0, float64(x[2]-x[0])) * math.Max(0, float64(x[3]-x[1]))
	}
	union := area(a) + area(b) - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}
