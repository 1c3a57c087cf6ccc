package eval

import (
	"fmt"
	"io"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/data/world"
)

// Report is the result of Run; its JSON form is what `sg2im eval --json`
// prints. Shares are in [0, 1].
type Report struct {
	Scenes    int    `json:"scenes"`
	Seed      uint64 `json:"seed"`
	ImageSize int    `json:"image_size"`
	// Objects counts the real objects of the graphs (__image__ left out).
	Objects       int           `json:"objects"`
	Relationships Relationships `json:"relationships"`
	// Recognisability is nil when no classifier was given.
	Recognisability *Recognisability `json:"recognisability,omitempty"`
	Image           ImageStats       `json:"image"`
	// BoxIoU is the mean IoU of the predicted boxes with the scenes' true
	// boxes over the real objects.
	BoxIoU float64 `json:"box_iou"`
	// Layout is where the predicted boxes go: past the frame, and onto
	// each other for objects of one category.
	Layout LayoutStats `json:"layout"`
	// ObjectFID is nil when no classifier was given.
	ObjectFID *ObjectFID `json:"object_fid,omitempty"`
}

// Relationships is the share of the graphs' geometric triples that the
// predicted layout satisfies, overall and by predicate.
type Relationships struct {
	// Centres says where the rule's centres come from: "predicted mask
	// centroids" (masks thresholded at one half) or "box centres" for
	// models without masks.
	Centres      string          `json:"centres"`
	Triples      int             `json:"triples"`
	Satisfaction float64         `json:"satisfaction"`
	PerPredicate map[string]Rate `json:"per_predicate"`
}

// Rate is how many of Count cases came out right.
type Rate struct {
	Count int     `json:"count"`
	Right int     `json:"satisfied"`
	Share float64 `json:"share"`
}

// Recognisability is the classifier's top-1 accuracy on crops of the
// objects: of the real images at the true boxes (the ceiling), of images
// generated with the true layout at the true boxes, and of images
// generated from the graph alone at the predicted boxes.
type Recognisability struct {
	Real        float64                  `json:"real"`
	TrueLayout  float64                  `json:"true_layout"`
	PredLayout  float64                  `json:"pred_layout"`
	PerCategory map[string]CategoryRecog `json:"per_category"`
	// HeldoutAccuracy is the classifier's own held-out accuracy, measured
	// when it was trained (at 64x64); 0 when its file does not say.
	HeldoutAccuracy float64 `json:"classifier_heldout_accuracy,omitempty"`
}

// CategoryRecog is Recognisability for one category.
type CategoryRecog struct {
	Count      int     `json:"count"`
	Real       float64 `json:"real"`
	TrueLayout float64 `json:"true_layout"`
	PredLayout float64 `json:"pred_layout"`
}

// ImageStats compare generated images with the real ones and with each
// other.
type ImageStats struct {
	// L1Normalized is the mean |generated - real| per value of images
	// generated with the true layout, in ImageNet-normalised units (the
	// training's L1 pixel loss).
	L1Normalized float64 `json:"l1_true_layout_normalized"`
	// L1Pixels is the same in [0, 1] pixel units: both images
	// un-normalised and clamped to [0, 1].
	L1Pixels float64 `json:"l1_true_layout_pixels"`
	// Diversity is the mean |a - b| in [0, 1] pixel units between the
	// images of one graph generated (predicted layout) from two noise
	// seeds; 0 for models without layout noise.
	Diversity float64 `json:"diversity_pixels"`
}

func share(right, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(right) / float64(n)
}

// report turns the sums into a Report.
func (a *accum) report(c *Classifier) *Report {
	r := &Report{Objects: a.objects}
	count, sat := a.rel.Total()
	r.Relationships = Relationships{Triples: count, Satisfaction: share(sat, count), PerPredicate: map[string]Rate{}}
	names := data.COCOPredicates()
	for p := range a.rel.Count {
		if Geometric(p) {
			r.Relationships.PerPredicate[names[p]] = Rate{a.rel.Count[p], a.rel.Satisfied[p], share(a.rel.Satisfied[p], a.rel.Count[p])}
		}
	}
	r.BoxIoU = a.iou / float64(max(a.objects, 1))
	r.Layout = a.layout.stats()
	r.Image = ImageStats{
		L1Normalized: a.l1Norm / float64(max(a.values, 1)),
		L1Pixels:     a.l1Pix / float64(max(a.values, 1)),
		Diversity:    a.div / float64(max(a.divValues, 1)),
	}
	if c == nil {
		return r
	}
	rec := &Recognisability{PerCategory: map[string]CategoryRecog{}}
	var n, real, tl, pl int
	for cat, name := range world.Categories() {
		if a.n[cat] == 0 {
			continue
		}
		n, real, tl, pl = n+a.n[cat], real+a.real[cat], tl+a.trueLay[cat], pl+a.predLay[cat]
		rec.PerCategory[name] = CategoryRecog{a.n[cat], share(a.real[cat], a.n[cat]), share(a.trueLay[cat], a.n[cat]), share(a.predLay[cat], a.n[cat])}
	}
	rec.Real, rec.TrueLayout, rec.PredLayout = share(real, n), share(tl, n), share(pl, n)
	r.Recognisability = rec
	return r
}

// WriteText prints the report as a table for people.
func (r *Report) WriteText(w io.Writer) error {
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	p("%d held-out world scenes (seed %d), %dx%d, %d objects\n\n", r.Scenes, r.Seed, r.ImageSize, r.ImageSize, r.Objects)
	rel := r.Relationships
	p("%-36s%.3f  (%d geometric triples; predicted boxes, %s)\n", "relationship satisfaction", rel.Satisfaction, rel.Triples, rel.Centres)
	for _, name := range data.COCOPredicates()[data.PredLeftOf:] {
		q := rel.PerPredicate[name]
		p("  %-34s%.3f  (%d)\n", name, q.Share, q.Count)
	}
	if rc := r.Recognisability; rc != nil {
		p("\nrecognisability (classifier top-1 on object crops)\n")
		p("  %-34s%.3f\n", "real images, true boxes (ceiling)", rc.Real)
		p("  %-34s%.3f\n", "generated, true layout", rc.TrueLayout)
		p("  %-34s%.3f\n", "generated, predicted layout", rc.PredLayout)
		if rc.HeldoutAccuracy > 0 {
			p("  %-34s%.3f\n", "classifier held-out, at training", rc.HeldoutAccuracy)
		}
		p("\n  %-10s %6s %7s %7s %7s\n", "category", "count", "real", "true", "pred")
		for _, name := range world.Categories() {
			if c, ok := rc.PerCategory[name]; ok {
				p("  %-10s %6d %7.3f %7.3f %7.3f\n", name, c.Count, c.Real, c.TrueLayout, c.PredLayout)
			}
		}
	} else {
		p("\n%-36s(no classifier)\n", "recognisability")
	}
	p("\n%-36s%.4f (ImageNet-normalised), %.4f ([0,1] pixels)\n", "L1 to real, true layout", r.Image.L1Normalized, r.Image.L1Pixels)
	p("%-36s%.4f ([0,1] pixels)\n", "diversity, two noise seeds", r.Image.Diversity)
	p("%-36s%.3f\n", "mean box IoU vs true boxes", r.BoxIoU)
	l := r.Layout
	p("%-36s%d of %d (most %.3f of the side)\n", "predicted boxes past the frame", l.BoxesOutside, r.Objects, l.MaxOverflow)
	p("%-36s%d of %d pairs (IoU > %.1f); real boxes: %d\n", "same-category instances merged", l.MergedPred, l.SameCategoryPairs, mergedIoU, l.MergedTrue)
	p("%-36s%.3f predicted, %.3f real\n", "same-category pair IoU, mean", l.PairIoUPred, l.PairIoUTrue)
	if f := r.ObjectFID; f != nil {
		p("\nobject FID (%d features: the classifier's penultimate layer over 2x2 cells; reference: real crops of %d other held-out scenes, %d crops)\n",
			f.Features, r.Scenes, f.ReferenceCrops)
		p("  %-34s%.2f  (%d crops)\n", "generated, predicted layout", f.PredLayout, f.Crops)
		p("  %-34s%.2f\n", "generated, true layout", f.TrueLayout)
		p("  %-34s%.2f  (floor: real crops of these scenes)\n", "real vs real", f.RealFloor)
		if f.Crops < MinFIDCrops {
			p("  (%d crops: fewer than %d make a noisy estimate; evaluate more scenes, --n 300 or more)\n", f.Crops, MinFIDCrops)
		}
	}
	return err
}
