package train

import (
	"fmt"
	"maps"
	"math"
	"runtime/debug"
	"runtime/metrics"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
)

// StepConfig holds the release's loss weights and optimiser settings
// (train.py's flags of the same names).
type StepConfig struct {
	LearningRate            float64
	L1PixelLossWeight       float32
	BBoxPredLossWeight      float32
	MaskLossWeight          float32
	DiscriminatorLossWeight float32
	DObjWeight              float32
	DImgWeight              float32
	ACLossWeight            float32
	GANLossType             string // gan, lsgan or wgan
	// AppearanceKLWeight weighs the appearance vectors' KL divergence
	// from N(0, I) (models with AppearanceDim > 0).
	AppearanceKLWeight float32
}

// DefaultStepConfig is the release's defaults.
func DefaultStepConfig() StepConfig {
	return StepConfig{
		LearningRate: 1e-4, L1PixelLossWeight: 1, BBoxPredLossWeight: 10, MaskLossWeight: 0,
		DiscriminatorLossWeight: 0.01, DObjWeight: 1, DImgWeight: 1, ACLossWeight: 0.1, GANLossType: "gan",
	}
}

// Trainer runs the release's training step: the generator on real boxes
// and masks, then each discriminator on the detached fakes and the reals.
type Trainer struct {
	Config StepConfig
	G      *model.Generator
	DImg   *model.ImageDiscriminator  // nil without an image discriminator
	DObj   *model.ObjectDiscriminator // nil without an object discriminator
	OptG   *nn.Adam
	OptImg *nn.Adam
	OptObj *nn.Adam
}

// NewTrainer makes optimisers for the networks given.
func NewTrainer(cfg StepConfig, g *model.Generator, dImg *model.ImageDiscriminator, dObj *model.ObjectDiscriminator) (*Trainer, error) {
	switch cfg.GANLossType {
	case "gan", "lsgan", "wgan":
	default:
		return nil, fmt.Errorf("train: gan_loss_type %q: want gan, lsgan or wgan", cfg.GANLossType)
	}
	t := &Trainer{Config: cfg, G: g, DImg: dImg, DObj: dObj, OptG: nn.NewAdam(g.ParamVars(), cfg.LearningRate)}
	if dImg != nil {
		t.OptImg = nn.NewAdam(dImg.ParamVars(), cfg.LearningRate)
	}
	if dObj != nil {
		t.OptObj = nn.NewAdam(dObj.ParamVars(), cfg.LearningRate)
	}
	return t, nil
}

// StepInput is one training batch.
type StepInput struct {
	Batch  *model.Batch
	Images *nn.Tensor // (N, 3, H, W), ImageNet-normalised
	Boxes  *nn.Tensor // (O, 4)
	Masks  *nn.Tensor // (O, M, M); nil for datasets without masks
	Noise  *nn.Tensor // layout noise; nil draws it from Seed
	Seed   uint64
	// AppearanceEps (O, AppearanceDim) are the standard normal draws of
	// the appearance vectors' sample; nil draws them from Seed (see
	// model.AppearanceNoise). Given, e.g., to compare with PyTorch.
	AppearanceEps *nn.Tensor
}

// Losses are one step's losses under the release's names, unweighted;
// total_loss is the generator's weighted sum.
type Losses map[string]float64

// StepResult is what one training step did.
type StepResult struct {
	Losses Losses
	// Skipped reports a non-finite generator loss: nothing was updated.
	Skipped bool
	// Fake is the generated batch (N, 3, H, W), before the update.
	Fake *nn.Tensor
	// BoxesPred are the predicted boxes (O, 4), before the update.
	BoxesPred *nn.Tensor
}

// Step runs one training iteration. train selects train-mode batch norms
// in the generator (the release switches to eval after eval_mode_after
// iterations); the discriminators always train. A step whose generator
// loss is not finite updates nothing and reports Skipped.
func (t *Trainer) Step(in *StepInput, train bool) (*StepResult, error) {
	defer lowerGCPercent()()
	c := &t.Config
	b := in.Batch
	losses := Losses{}
	tp := nn.NewTape()
	var terms []*nn.Var
	var weights []float32
	add := func(name string, v *nn.Var, w float32) {
		losses[name] = float64(v.Value.Data[0])
		terms = append(terms, v)
		weights = append(weights, w)
	}
	opt := model.Options{Boxes: in.Boxes, Masks: in.Masks, Noise: in.Noise, Seed: in.Seed}
	if e, A := in.AppearanceEps, t.G.Config.AppearanceDim; e != nil && !nn.SameShape(e.Shape, []int{len(b.Objs), A}) {
		return nil, fmt.Errorf("train: appearance draws have shape %v, want (%d, %d)", e.Shape, len(b.Objs), A)
	}
	t.trainingOptions(tp, in, &opt, add)
	out, err := t.G.ForwardTape(tp, train, b, opt)
	if err != nil {
		return nil, err
	}
	res := &StepResult{Losses: losses, Fake: out.Img.Value, BoxesPred: out.BoxesPred.Value}
	real := nn.Const(in.Images)
	add("L1_pixel_loss", tp.L1Loss(out.Img, real), c.L1PixelLossWeight)
	add("bbox_pred", tp.MSELoss(out.BoxesPred, nn.Const(in.Boxes)), c.BBoxPredLossWeight)
	if c.MaskLossWeight > 0 && in.Masks != nil && out.MasksPred != nil {
		add("mask_loss", tp.BCELoss(out.MasksPred, in.Masks), c.MaskLossWeight)
	}
	if t.DObj != nil {
		scores, ac := t.DObj.Forward(tp, true, out.Img, b.Objs, in.Boxes, b.ObjToImg)
		add("ac_loss", ac, c.ACLossWeight)
		add("g_gan_obj_loss", t.gLoss(tp, scores), c.DiscriminatorLossWeight*c.DObjWeight)
	}
	if t.DImg != nil {
		scores := t.DImg.Forward(tp, true, out.Img)
		add("g_gan_img_loss", t.gLoss(tp, scores), c.DiscriminatorLossWeight*c.DImgWeight)
	}
	total := tp.WeightedSum(terms, weights)
	losses["total_loss"] = float64(total.Value.Data[0])
	if f := losses["total_loss"]; math.IsNaN(f) || math.IsInf(f, 0) {
		res.Skipped = true
		return res, nil
	}
	// Every gradient is cleared once, before the generator's backward: the
	// reference step (the fixtures' train.grad.d_*) lets the discriminators'
	// gradients from the generator's loss add to those of their own losses.
	t.OptG.ZeroGrad()
	for _, opt := range []*nn.Adam{t.OptObj, t.OptImg} {
		if opt != nil {
			opt.ZeroGrad()
		}
	}
	tp.Backward(total)
	t.OptG.Step()

	fake := nn.Const(out.Img.Value) // detached
	t.discriminatorSteps(losses, in, fake, real)
	return res, nil
}

// discriminatorSteps updates both discriminators on the detached fakes and
// the reals. Their steps share no state (own tapes, parameters and
// optimisers; the images are only read), so they run concurrently: each
// is a chain of small products that alone leaves a core idle.
func (t *Trainer) discriminatorSteps(losses Losses, in *StepInput, fake, real *nn.Var) {
	objLosses := Losses{}
	var steps []func()
	if t.DObj != nil {
		steps = append(steps, func() { t.dObjStep(objLosses, in, fake, real) })
	}
	if t.DImg != nil {
		steps = append(steps, func() { t.dImgStep(losses, fake, real) })
	}
	nn.Concurrently(steps...)
	maps.Copy(losses, objLosses)
}

func (t *Trainer) dObjStep(losses Losses, in *StepInput, fake, real *nn.Var) {
	b := in.Batch
	tp := nn.NewTape()
	sf, acFake := t.DObj.Forward(tp, true, fake, b.Objs, in.Boxes, b.ObjToImg)
	sr, acReal := t.DObj.Forward(tp, true, real, b.Objs, in.Boxes, b.ObjToImg)
	gan := t.dLoss(tp, sr, sf)
	dTotal := tp.WeightedSum([]*nn.Var{gan, acReal, acFake}, []float32{1, 1, 1})
	losses["d_obj_gan_loss"] = float64(gan.Value.Data[0])
	losses["d_ac_loss_real"] = float64(acReal.Value.Data[0])
	losses["d_ac_loss_fake"] = float64(acFake.Value.Data[0])
	losses["d_obj_total"] = float64(dTotal.Value.Data[0])
	tp.Backward(dTotal)
	t.OptObj.Step()
}

func (t *Trainer) dImgStep(losses Losses, fake, real *nn.Var) {
	tp := nn.NewTape()
	sf := t.DImg.Forward(tp, true, fake)
	sr := t.DImg.Forward(tp, true, real)
	gan := t.dLoss(tp, sr, sf)
	losses["d_img_gan_loss"] = float64(gan.Value.Data[0])
	tp.Backward(gan)
	t.OptImg.Step()
}

// trainingOptions sets what the options of this program take from the
// real batch: the instance indices from the true boxes' left-to-right
// order, and the appearance vectors encoded from the real crops (a sample
// of the encoder's Gaussian, its KL divergence from N(0, I) a loss term).
func (t *Trainer) trainingOptions(tp *nn.Tape, in *StepInput, opt *model.Options, add func(string, *nn.Var, float32)) {
	g, b := t.G, in.Batch
	if k := g.Config.InstanceEmbeddings; k > 0 {
		opt.Instances = model.InstanceIndex(b, in.Boxes, k)
	}
	if A := g.Config.AppearanceDim; A > 0 {
		mu, logvar := g.EncodeAppearance(tp, in.Images, in.Boxes, b.ObjToImg)
		eps := in.AppearanceEps
		if eps == nil {
			eps = model.AppearanceNoise(in.Seed, b.ObjToImg, b.NumImages, A)
		}
		opt.AppearanceVar = tp.Reparameterize(mu, logvar, eps)
		add("appearance_kl", tp.KLStdNormal(mu, logvar), t.Config.AppearanceKLWeight)
	}
}

// gLoss is the generator's adversarial loss on fake scores.
func (t *Trainer) gLoss(tp *nn.Tape, fake *nn.Var) *nn.Var {
	switch t.Config.GANLossType {
	case "lsgan":
		return tp.MSELoss(tp.Sigmoid(fake), nn.Const(filled(fake.Value.Shape, 1)))
	case "wgan":
		return tp.WeightedSum([]*nn.Var{tp.Mean(fake)}, []float32{-1})
	}
	return tp.BCEWithLogits(fake, 1)
}

// dLoss is a discriminator's adversarial loss on real and fake scores.
func (t *Trainer) dLoss(tp *nn.Tape, real, fake *nn.Var) *nn.Var {
	switch t.Config.GANLossType {
	case "lsgan":
		return tp.WeightedSum([]*nn.Var{
			tp.MSELoss(tp.Sigmoid(real), nn.Const(filled(real.Value.Shape, 1))),
			tp.MSELoss(tp.Sigmoid(fake), nn.Const(filled(fake.Value.Shape, 0))),
		}, []float32{1, 1})
	case "wgan":
		return tp.WeightedSum([]*nn.Var{tp.Mean(fake), tp.Mean(real)}, []float32{1, -1})
	}
	return tp.WeightedSum([]*nn.Var{tp.BCEWithLogits(real, 1), tp.BCEWithLogits(fake, 0)}, []float32{1, 1})
}

func filled(shape []int, v float32) *nn.Tensor {
	t := nn.New(shape...)
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

// A training step collects garbage whenever the heap has grown by
// trainGCPercent of the live heap, or by trainGCMinGrowth when that is
// more. A step allocates about as much as is live (activations, gradients,
// convolution scratch: ~1.4 GB a step at the release's widths), so Go's
// default GOGC of 100 lets the heap, and the process's resident memory,
// reach twice the live set before collecting. The heap is almost all
// pointer-free float32 slices, so a collection marks little; the floor
// keeps small networks, whose fixed cost per collection would dominate,
// from collecting dozens of times a step.
const (
	trainGCPercent   = 20
	trainGCMinGrowth = 64 << 20
)

// lowerGCPercent lowers GOGC for a step as trainGCPercent and
// trainGCMinGrowth say, judged by the live heap now (the weights, Adam's
// moments, pooled scratch), never raising it nor turning collection back
// on, and returns the function restoring it.
func lowerGCPercent() (restore func()) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	percent := trainGCPercent
	if sample[0].Value.Kind() == metrics.KindUint64 {
		if live := sample[0].Value.Uint64(); live > 0 {
			percent = max(percent, int(min(100*trainGCMinGrowth/live, 1<<20)))
		}
	}
	old := debug.SetGCPercent(percent)
	if old < 0 || old <= percent {
		debug.SetGCPercent(old)
		return func() {}
	}
	return func() { debug.SetGCPercent(old) }
}
