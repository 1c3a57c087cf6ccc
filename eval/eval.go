package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/data/world"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
)

// Options configure Run. The zero value of a field is not its default:
// start from DefaultOptions.
type Options struct {
	N    int    // held-out world scenes to evaluate
	Seed uint64 // world seed; also draws the graphs' triples and the noise
	// BatchSize is the graphs of one generator pass.
	BatchSize int
	// Classifier scores recognisability; nil leaves it out.
	Classifier *Classifier
	// Progress, when set, is called after each batch.
	Progress func(done, total int)
}

// DefaultOptions are 500 scenes of seed 0 in batches of 16.
func DefaultOptions() Options { return Options{N: 500, BatchSize: 16} }

// Salts separate the rng streams of one seed (arbitrary odd constants).
const (
	tripleSalt = 0x9e3779b97f4a7c15
	noiseSaltA = 0xbf58476d1ce4e5b9
	noiseSaltB = 0x94d049bb133111eb
)

// VocabError names the world's words a model does not know.
type VocabError struct {
	Objects, Predicates []string
}

func (e *VocabError) Error() string {
	var parts []string
	if len(e.Objects) > 0 {
		parts = append(parts, fmt.Sprintf("objects %s", quote(e.Objects)))
	}
	if len(e.Predicates) > 0 {
		parts = append(parts, fmt.Sprintf("predicates %s", quote(e.Predicates)))
	}
	return "eval: the model's vocabulary lacks the world's " + strings.Join(parts, " and ") +
		"; eval needs a model trained on the built-in world (sg2im train --dataset world)"
}

func quote(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, ", ")
}

// WorldIDs maps the world's object and predicate ids to the ids of the
// vocabulary v by name, or returns a *VocabError listing every world word
// v lacks.
func WorldIDs(v *model.Vocab) (objs, preds []int, err error) {
	ve := &VocabError{}
	for _, name := range world.Categories() {
		id, ok := v.ObjectNameToIdx[name]
		if !ok {
			ve.Objects = append(ve.Objects, name)
		}
		objs = append(objs, id)
	}
	for _, name := range world.Predicates() {
		id, ok := v.PredNameToIdx[name]
		if !ok {
			ve.Predicates = append(ve.Predicates, name)
		}
		preds = append(preds, id)
	}
	if len(ve.Objects)+len(ve.Predicates) > 0 {
		return nil, nil, ve
	}
	return objs, preds, nil
}

// Run evaluates a generator on opt.N held-out scenes of the built-in
// world (package doc: the metrics). Each scene's graph is its objects and
// the triples the world draws for it (geometric, semantic, __in_image__);
// scene i's triples and noise depend only on the seed and i, so the
// report is the same for any batch size.
func Run(g *model.Generator, opt Options) (*Report, error) {
	cfg := &g.Config
	if opt.N < 1 || opt.BatchSize < 1 {
		return nil, fmt.Errorf("eval: %d scenes in batches of %d; want at least 1 of each", opt.N, opt.BatchSize)
	}
	if cfg.ImageSize[0] != cfg.ImageSize[1] {
		return nil, fmt.Errorf("eval: the world draws square images; the model makes %dx%d", cfg.ImageSize[0], cfg.ImageSize[1])
	}
	objIDs, predIDs, err := WorldIDs(cfg.Vocab)
	if err != nil {
		return nil, err
	}
	wopts := world.DefaultOptions()
	wopts.Seed, wopts.N, wopts.Heldout, wopts.ImageSize = opt.Seed, opt.N, true, cfg.ImageSize[0]
	if cfg.MaskSize > 0 {
		wopts.MaskSize = cfg.MaskSize
	}
	w, err := world.New(wopts)
	if err != nil {
		return nil, fmt.Errorf("eval: %v", err)
	}
	var labels []int // world category id -> classifier class
	if c := opt.Classifier; c != nil {
		for _, name := range world.Categories() {
			k := c.ClassIndex(name)
			if k < 0 && name != model.ImageObject {
				return nil, fmt.Errorf("eval: the classifier has no class %q of the world; train one with `sg2im eval --train_classifier`", name)
			}
			labels = append(labels, k)
		}
	}
	acc := newAccum(opt.Classifier)
	for lo := 0; lo < opt.N; lo += opt.BatchSize {
		hi := min(lo+opt.BatchSize, opt.N)
		exs := make([]*data.Example, 0, hi-lo)
		for i := lo; i < hi; i++ {
			ex, err := w.Example(i, rand.New(rand.NewPCG(opt.Seed^tripleSalt, uint64(i))))
			if err != nil {
				return nil, err
			}
			exs = append(exs, ex)
		}
		if err := acc.batch(g, exs, objIDs, predIDs, labels, opt, lo, wopts.MaskSize); err != nil {
			return nil, err
		}
		if opt.Progress != nil {
			opt.Progress(hi, opt.N)
		}
	}
	r := acc.report(opt.Classifier)
	if opt.Classifier != nil {
		if r.ObjectFID, err = acc.objectFID(opt, wopts); err != nil {
			return nil, err
		}
	}
	r.Scenes, r.Seed, r.ImageSize = opt.N, opt.Seed, cfg.ImageSize[0]
	r.Relationships.Centres = "box centres"
	if cfg.MaskSize > 0 {
		r.Relationships.Centres = "predicted mask centroids"
	}
	return r, nil
}

// accum sums the metrics over batches.
type accum struct {
	rel                       RelStats
	objects                   int
	iou                       float64
	l1Norm, l1Pix, div        float64
	values, divValues         int
	recog                     bool
	n, real, trueLay, predLay []int // per world category
	layout                    layoutAccum
	// Classifier features of the real crops and of the generated ones
	// (true and predicted layout), for the object FID.
	fidReal, fidTrue, fidPred *featureStats
}

func newAccum(c *Classifier) *accum {
	k := len(world.Categories())
	a := &accum{recog: c != nil, n: make([]int, k), real: make([]int, k), trueLay: make([]int, k), predLay: make([]int, k)}
	if c != nil {
		F := c.fidDim()
		a.fidReal, a.fidTrue, a.fidPred = newFeatureStats(F), newFeatureStats(F), newFeatureStats(F)
	}
	return a
}

// batch generates the examples' images three ways (true layout; predicted
// layout with two noise seeds) and adds up the metrics.
func (a *accum) batch(g *model.Generator, exs []*data.Example, objIDs, predIDs, labels []int, opt Options, lo, m int) error {
	cfg := &g.Config
	tb := data.Collate(exs, m)
	b := tb.Batch
	worldObjs := b.Objs
	b.Objs = make([]int, len(worldObjs))
	for k, id := range worldObjs {
		b.Objs[k] = objIDs[id]
	}
	b.Triples = make([][3]int, len(tb.Triples))
	for k, t := range tb.Triples {
		b.Triples[k] = [3]int{t[0], predIDs[t[1]], t[2]}
	}
	seedA := splitmix(opt.Seed^noiseSaltA) + uint64(lo)
	inst := instances(g, &b, tb.Boxes)
	trueOpt := model.Options{Boxes: tb.Boxes, Seed: seedA, Instances: inst}
	if cfg.MaskSize > 0 {
		trueOpt.Masks = tb.Masks
	}
	trueOut, err := g.Forward(&b, trueOpt)
	if err != nil {
		return err
	}
	predOut, err := g.Forward(&b, model.Options{Seed: seedA, Instances: inst})
	if err != nil {
		return err
	}

	// Images: L1 with the true layout; diversity between two seeds.
	for i, v := range trueOut.Img.Data {
		a.l1Norm += math.Abs(float64(v - tb.Images.Data[i]))
	}
	a.l1Pix += pixelL1(trueOut.Img, tb.Images)
	a.values += len(trueOut.Img.Data)
	if cfg.LayoutNoiseDim > 0 || cfg.AppearanceDim > 0 {
		seedB := splitmix(opt.Seed^noiseSaltB) + uint64(lo)
		other, err := g.Forward(&b, model.Options{Seed: seedB, Instances: inst})
		if err != nil {
			return err
		}
		a.div += pixelL1(predOut.Img, other.Img)
	}
	a.divValues += len(predOut.Img.Data)

	// Layout: relationships and box IoU per example.
	var real []int // batch indices of the real objects
	base := 0
	for _, ex := range exs {
		n := len(ex.Objs)
		boxes := make([][4]float32, n)
		var masks [][]float32
		M := cfg.MaskSize
		if M > 0 {
			masks = make([][]float32, n)
		}
		for j := range n {
			k := base + j
			boxes[j] = [4]float32(predOut.BoxesPred.Data[4*k : 4*k+4])
			if M > 0 {
				masks[j] = binarize(predOut.MasksPred.Data[k*M*M : (k+1)*M*M])
			}
			if worldObjs[k] != 0 { // not __image__
				a.iou += boxIoU(boxes[j], ex.Boxes[j])
				real = append(real, k)
			}
		}
		a.rel.Add(boxes, masks, M, ex.Triples)
		a.layout.add(boxes, ex.Boxes, worldObjs[base:base+n])
		base += n
	}
	a.objects += len(real)

	if !a.recog {
		return nil
	}
	c := opt.Classifier
	S := c.Config.CropSize
	objToImg := make([]int, len(real))
	trueBoxes, predBoxes := nn.New(len(real), 4), nn.New(len(real), 4)
	for r, k := range real {
		objToImg[r] = b.ObjToImg[k]
		copy(trueBoxes.Data[4*r:], tb.Boxes.Data[4*k:4*k+4])
		copy(predBoxes.Data[4*r:], predOut.BoxesPred.Data[4*k:4*k+4])
	}
	pReal, fReal := c.PredictFeatures(CropBoxes(tb.Images, trueBoxes, objToImg, S))
	pTrue, fTrue := c.PredictFeatures(CropBoxes(trueOut.Img, trueBoxes, objToImg, S))
	pPred, fPred := c.PredictFeatures(CropBoxes(predOut.Img, predBoxes, objToImg, S))
	a.fidReal.add(c.fidFeatures(fReal))
	a.fidTrue.add(c.fidFeatures(fTrue))
	a.fidPred.add(c.fidFeatures(fPred))
	for r, k := range real {
		cat := worldObjs[k]
		want := labels[cat]
		a.n[cat]++
		a.real[cat] += b2i(pReal[r] == want)
		a.trueLay[cat] += b2i(pTrue[r] == want)
		a.predLay[cat] += b2i(pPred[r] == want)
	}
	return nil
}

// instances numbers the objects of one category in a scene from left to
// right, as a graph's author names them ("flower" left of "flower#2") and
// as training does, for models with instance embeddings (nil otherwise).
func instances(g *model.Generator, b *model.Batch, trueBoxes *nn.Tensor) []int {
	if k := g.Config.InstanceEmbeddings; k > 0 {
		return model.InstanceIndex(b, trueBoxes, k)
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ImageNet statistics of the normalised images (as model.Deprocess undoes
// them), in float64 from the decimal values rather than
// model.ImageNetStats' float32, so that the metrics stay as reported.
var (
	imagenetMean = [3]float64{0.485, 0.456, 0.406}
	imagenetStd  = [3]float64{0.229, 0.224, 0.225}
)

// pixelL1 sums |x - y| over images (N, 3, H, W) after undoing the ImageNet
// normalisation and clamping to [0, 1]: the distance in displayed pixel
// units (without model.Deprocess's per-image contrast stretch).
func pixelL1(x, y *nn.Tensor) float64 {
	plane := x.Shape[2] * x.Shape[3]
	var s float64
	for i, v := range x.Data {
		c := (i / plane) % 3
		px := clamp01(float64(v)*imagenetStd[c] + imagenetMean[c])
		py := clamp01(float64(y.Data[i])*imagenetStd[c] + imagenetMean[c])
		s += math.Abs(px - py)
	}
	return s
}

func clamp01(v float64) float64 { return min(max(v, 0), 1) }

// boxIoU is the intersection over union of two (x0, y0, x1, y1) boxes, 0
// when the union is empty; a box with x1 < x0 or y1 < y0 has no area.
func boxIoU(a, b [4]float32) float64 {
	ix := math.Max(0, math.Min(float64(a[2]), float64(b[2]))-math.Max(float64(a[0]), float64(b[0])))
	iy := math.Max(0, math.Min(float64(a[3]), float64(b[3]))-math.Max(float64(a[1]), float64(b[1])))
	area := func(x [4]float32) float64 {
		return math.Max(0, float64(x[2]-x[0])) * math.Max(0, float64(x[3]-x[1]))
	}
	u := area(a) + area(b) - ix*iy
	if u <= 0 {
		return 0
	}
	return ix * iy / u
}

// splitmix is SplitMix64's finaliser, to derive unrelated seeds.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
