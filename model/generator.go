package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/sg2im-go/sg2im/nn"
)

// Generator is the sg2im generator: graph convolution, box and mask nets,
// scene layout and cascaded refinement network.
type Generator struct {
	Config Config

	reg      registry
	objEmb   *nn.Var // (len(object_idx_to_name)+1, E)
	predEmb  *nn.Var // (len(pred_idx_to_name), E)
	gconv0   *linear // gconv_num_layers = 0: a Linear(E, D)
	gconvs   []graphConv
	boxNet   mlp
	relNet   mlp
	maskNet  *maskNet // nil without masks
	crn      crn
	numPreds int
	appEnc   *appearanceEncoder // nil without appearance vectors
	instEmb  *nn.Var            // (InstanceEmbeddings, E); nil without
}

// New builds a generator for a valid config. Weights are zero and batch
// norms the identity until LoadState or initialisation.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{Config: cfg}
	g.build()
	return g, nil
}

// build registers the generator's modules in g.reg for g.Config, valid.
func (g *Generator) build() {
	cfg := &g.Config
	slope, _ := LeakySlope(cfg.Activation)
	r := &g.reg
	E, D, Hd := cfg.EmbeddingDim, cfg.GconvDim, cfg.GconvHiddenDim
	g.numPreds = len(cfg.Vocab.PredIdxToName)
	g.objEmb = r.param("obj_embeddings.weight", len(cfg.Vocab.ObjectIdxToName)+1, E)
	g.predEmb = r.param("pred_embeddings.weight", g.numPreds, E)
	if cfg.GconvNumLayers == 0 {
		l := r.linear("gconv", E, D)
		g.gconv0 = &l
	} else {
		g.gconvs = append(g.gconvs, r.graphConv("gconv", E, D, Hd, cfg))
		for i := 0; i < cfg.GconvNumLayers-1; i++ {
			g.gconvs = append(g.gconvs, r.graphConv(fmt.Sprintf("gconv_net.gconvs.%d", i), D, D, Hd, cfg))
		}
	}
	bn := cfg.MLPNormalization == "batch"
	g.boxNet = r.mlp("box_net", []int{D, Hd, 4}, bn)
	if cfg.MaskSize > 0 {
		g.maskNet = r.maskNet(D, cfg.MaskSize)
	}
	g.relNet = r.mlp("rel_aux_net", []int{2*E + 8, Hd, g.numPreds}, bn)
	g.crn = r.crn(cfg, slope)
	// This program's options register after the release's tensors, so that
	// a model without them keeps the release's parameter order.
	if k := cfg.InstanceEmbeddings; k > 0 {
		g.instEmb = r.param("instance_embed.weight", k, E)
	}
	if A := cfg.AppearanceDim; A > 0 {
		g.appEnc = r.appearanceEncoder(A)
	}
}

// stateSize is the number of values a state dict for a generator of c
// holds (scalar buffers aside), counted without allocating them.
func (c *Config) stateSize() (int64, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	g := &Generator{Config: *c}
	g.reg.countOnly = true
	g.build()
	return g.reg.count, nil
}

// Params lists the trainable parameters under their state-dict names.
func (g *Generator) Params() []Named { return g.reg.params }

// ParamVars lists the trainable parameters as variables, in Params order.
func (g *Generator) ParamVars() []*nn.Var { return g.reg.vars }

// Buffers lists the running statistics under their state-dict names.
func (g *Generator) Buffers() []Named { return g.reg.buffers }

// NumParams counts the trainable values.
func (g *Generator) NumParams() int {
	n := 0
	for _, p := range g.reg.params {
		n += p.T.Numel()
	}
	return n
}

// LoadState gives the generator a state dict's values after checking that
// its names and shapes match exactly and that every value is finite. The
// generator takes the state's tensors' memory, without a copy: they are
// the generator's afterwards.
func (g *Generator) LoadState(state map[string]*nn.Tensor) error {
	for name, t := range state {
		if !nn.AllFinite(t.Data) {
			return fmt.Errorf("weights: %s contains NaN or infinite values; the checkpoint is corrupt or training diverged", name)
		}
	}
	return g.reg.load(state)
}

// Options change what a forward pass uses for the layout.
type Options struct {
	// Boxes (O, 4) as (x0, y0, x1, y1) in [0, 1] replace the predicted boxes.
	Boxes *nn.Tensor
	// Pinned (O), when set with Boxes, replaces only the boxes marked true;
	// the others stay as predicted (an editor's pinned boxes).
	Pinned []bool
	// Masks (O, M, M) replace the predicted masks (models with masks only).
	Masks *nn.Tensor
	// Noise (N, Z, H, W) is the layout noise; when nil, image i's noise is
	// drawn from Seed+i (see Noise).
	Noise *nn.Tensor
	Seed  uint64
	// Appearance (O, AppearanceDim) are the objects' appearance vectors;
	// when nil, image i's are drawn from Seed+i (see AppearanceNoise),
	// times Config.AppearanceScale.
	Appearance *nn.Tensor
	// Instances are the objects' instance indices (see InstanceIndex);
	// when nil, the graph's order gives them.
	Instances []int
	// AppearanceVar, when set, are the appearance vectors as a variable
	// on the pass's tape (the trainer's sample of the encoder's Gaussian,
	// through which the gradients flow); it takes precedence over
	// Appearance.
	AppearanceVar *nn.Var
	// Profile, when set, is told the wall time and FLOPs of each layer of
	// eval-mode passes (Forward); passes on a tape tell it nothing.
	Profile Recorder
}

// Output is everything a forward pass computes.
type Output struct {
	Img       *nn.Tensor // (N, 3, H, W), ImageNet-normalised
	BoxesPred *nn.Tensor // (O, 4)
	MasksPred *nn.Tensor // (O, M, M); nil without masks
	RelScores *nn.Tensor // (T, num_preds)
	Layout    *nn.Tensor // (N, D+AppearanceDim, H, W), before the noise is appended
	Noise     *nn.Tensor // (N, Z, H, W); nil when Z = 0
	ObjVecs   *nn.Tensor // (O, D) after graph convolution
	PredVecs  *nn.Tensor // (T, D) after graph convolution
}

// Forward runs the generator in eval mode on an encoded batch.
func (g *Generator) Forward(b *Batch, opt Options) (*Output, error) {
	v, err := g.ForwardTape(nil, false, b, opt)
	if err != nil {
		return nil, err
	}
	out := &Output{
		Img: v.Img.Value, BoxesPred: v.BoxesPred.Value, RelScores: v.RelScores.Value,
		Layout: v.Layout.Value, Noise: v.Noise, ObjVecs: v.ObjVecs.Value, PredVecs: v.PredVecs.Value,
	}
	if v.MasksPred != nil {
		out.MasksPred = v.MasksPred.Value
	}
	return out, nil
}

// VarOutput is Output as variables on a tape.
type VarOutput struct {
	Img, BoxesPred, MasksPred, RelScores, Layout, ObjVecs, PredVecs *nn.Var
	Noise                                                           *nn.Tensor
}

// ForwardTape runs the generator recording on tp (nil records nothing);
// train selects batch statistics for the batch norms and updates their
// running statistics, as PyTorch's train mode.
func (g *Generator) ForwardTape(tp *nn.Tape, train bool, b *Batch, opt Options) (*VarOutput, error) {
	p := pass{tp: tp, train: train}
	if tp == nil && !train {
		p.prof = newProfiler(opt.Profile)
	}
	tPass := p.prof.start()
	if err := g.checkBatch(b, &opt); err != nil {
		return nil, err
	}
	cfg := &g.Config
	H, W, Z := cfg.ImageSize[0], cfg.ImageSize[1], cfg.LayoutNoiseDim
	var noise chan *nn.Tensor
	if Z > 0 && opt.Noise == nil {
		// The noise depends on the seed only: draw it alongside the graph
		// convolution and the mask net.
		noise = make(chan *nn.Tensor, 1)
		go func() { noise <- Noise(opt.Seed, b.NumImages, Z, H, W) }()
	}
	s := make([]int, len(b.Triples))
	pr := make([]int, len(b.Triples))
	o := make([]int, len(b.Triples))
	for i, t := range b.Triples {
		s[i], pr[i], o[i] = t[0], t[1], t[2]
	}
	out := &VarOutput{}
	objOrig := tp.Gather(g.objEmb, b.Objs)
	objVecs, predVecs := objOrig, tp.Gather(g.predEmb, pr)
	if g.instEmb != nil {
		inst := opt.Instances
		if inst == nil {
			inst = InstanceIndex(b, nil, cfg.InstanceEmbeddings)
		}
		objVecs = tp.Add(objVecs, tp.Gather(g.instEmb, inst))
	}
	if g.gconv0 != nil {
		objVecs = g.gconv0.forward(p, objVecs)
	}
	for _, gc := range g.gconvs {
		objVecs, predVecs = gc.forward(p, objVecs, predVecs, s, o)
	}
	out.ObjVecs, out.PredVecs = objVecs, predVecs
	if cfg.BoxSigmoid {
		out.BoxesPred = g.boxNet.forwardSigmoid(p, objVecs)
	} else {
		out.BoxesPred = g.boxNet.forward(p, objVecs)
	}
	if g.maskNet != nil {
		out.MasksPred = g.maskNet.forward(p, objVecs)
	}
	out.RelScores = g.relNet.forward(p, tp.Concat(1,
		tp.Gather(out.BoxesPred, s), tp.Gather(out.BoxesPred, o),
		tp.Gather(objOrig, s), tp.Gather(objOrig, o)))

	boxes, masks := out.BoxesPred, out.MasksPred
	if opt.Boxes != nil {
		boxes = nn.Const(pinBoxes(opt.Boxes, out.BoxesPred.Value, opt.Pinned))
	}
	if opt.Masks != nil {
		masks = nn.Const(opt.Masks)
	}
	t0 := p.prof.start()
	out.Layout = sceneLayout(tp, g.layoutVecs(tp, objVecs, b, &opt), boxes.Value, masks, b.ObjToImg, b.NumImages, H, W)
	p.prof.add(paint, t0, 0)
	crnIn := []*nn.Var{out.Layout}
	if Z > 0 {
		out.Noise = opt.Noise
		if out.Noise == nil {
			out.Noise = <-noise
		}
		crnIn = append(crnIn, nn.Const(out.Noise))
	}
	out.Img = g.crn.forward(p, crnIn...)
	p.prof.pass(tPass)
	return out, nil
}

// pinBoxes is given where pinned (all of it when pinned is nil), pred elsewhere.
func pinBoxes(given, pred *nn.Tensor, pinned []bool) *nn.Tensor {
	if pinned == nil {
		return given
	}
	out := pred.Clone()
	for i, p := range pinned {
		if p {
			copy(out.Data[i*4:i*4+4], given.Data[i*4:i*4+4])
		}
	}
	return out
}

// layoutVecs are the vectors painted into the layout: the objects' graph
// vectors, and their appearance vectors beside them when the model has
// them.
func (g *Generator) layoutVecs(tp *nn.Tape, objVecs *nn.Var, b *Batch, opt *Options) *nn.Var {
	A := g.Config.AppearanceDim
	if A == 0 {
		return objVecs
	}
	z := opt.AppearanceVar
	switch {
	case z != nil:
	case opt.Appearance != nil:
		z = nn.Const(opt.Appearance)
	default:
		t := AppearanceNoise(opt.Seed, b.ObjToImg, b.NumImages, A)
		if sc := float32(g.Config.AppearanceScale); sc != 0 && sc != 1 {
			for i := range t.Data {
				t.Data[i] *= sc
			}
		}
		z = nn.Const(t)
	}
	return tp.Concat(1, objVecs, z)
}

// Noise draws standard normal layout noise (n, z, h, w): image i of the
// batch from the stream seed+i, so that an image depends only on its own
// seed whatever batch it is drawn in, natively and in WebAssembly alike.
func Noise(seed uint64, n, z, h, w int) *nn.Tensor {
	t := nn.New(n, z, h, w)
	per := z * h * w
	for i := 0; i < n; i++ {
		// The second PCG word is a fixed constant so that one number names a stream.
		rng := rand.New(rand.NewPCG(seed+uint64(i), 0x5c21a6e))
		for j := range t.Data[i*per : (i+1)*per] {
			t.Data[i*per+j] = float32(rng.NormFloat64())
		}
	}
	return t
}

// checkBatch validates a batch and options from outside before any maths.
func (g *Generator) checkBatch(b *Batch, opt *Options) error {
	cfg := &g.Config
	O := len(b.Objs)
	if O == 0 {
		return fmt.Errorf("model: empty batch: a scene needs at least one object")
	}
	if len(b.ObjToImg) != O {
		return fmt.Errorf("model: batch has %d objects but %d obj_to_img entries", O, len(b.ObjToImg))
	}
	numObjIDs := g.objEmb.Value.Shape[0]
	for i, id := range b.Objs {
		if id < 0 || id >= numObjIDs {
			return fmt.Errorf("model: object %d has id %d, outside the vocabulary [0, %d)", i, id, numObjIDs)
		}
		if img := b.ObjToImg[i]; img < 0 || img >= b.NumImages {
			return fmt.Errorf("model: object %d belongs to image %d, outside [0, %d)", i, img, b.NumImages)
		}
	}
	for i, t := range b.Triples {
		if t[0] < 0 || t[0] >= O || t[2] < 0 || t[2] >= O {
			return fmt.Errorf("model: triple %d %v refers to an object outside [0, %d)", i, t, O)
		}
		if t[1] < 0 || t[1] >= g.numPreds {
			return fmt.Errorf("model: triple %d has predicate id %d, outside [0, %d)", i, t[1], g.numPreds)
		}
	}
	if opt.Boxes != nil {
		if !nn.SameShape(opt.Boxes.Shape, []int{O, 4}) {
			return fmt.Errorf("model: boxes have shape %v, want (%d, 4): one (x0, y0, x1, y1) per object, __image__ objects included", opt.Boxes.Shape, O)
		}
		if !nn.AllFinite(opt.Boxes.Data) {
			return fmt.Errorf("model: boxes contain NaN or infinite values")
		}
		if opt.Pinned != nil && len(opt.Pinned) != O {
			return fmt.Errorf("model: %d pinned flags for %d objects", len(opt.Pinned), O)
		}
	}
	if opt.Masks != nil {
		M := cfg.MaskSize
		if M == 0 {
			return fmt.Errorf("model: masks given, but this model has no mask net (mask_size 0); give boxes only")
		}
		if !nn.SameShape(opt.Masks.Shape, []int{O, M, M}) {
			return fmt.Errorf("model: masks have shape %v, want (%d, %d, %d)", opt.Masks.Shape, O, M, M)
		}
		if !nn.AllFinite(opt.Masks.Data) {
			return fmt.Errorf("model: masks contain NaN or infinite values")
		}
	}
	if opt.Appearance != nil {
		if cfg.AppearanceDim == 0 {
			return fmt.Errorf("model: appearance vectors given, but this model has none (appearance_dim 0)")
		}
		if !nn.SameShape(opt.Appearance.Shape, []int{O, cfg.AppearanceDim}) {
			return fmt.Errorf("model: appearance vectors have shape %v, want (%d, %d): one per object, __image__ objects included", opt.Appearance.Shape, O, cfg.AppearanceDim)
		}
		if !nn.AllFinite(opt.Appearance.Data) {
			return fmt.Errorf("model: appearance vectors contain NaN or infinite values")
		}
	}
	if v := opt.AppearanceVar; v != nil && cfg.AppearanceDim > 0 && !nn.SameShape(v.Value.Shape, []int{O, cfg.AppearanceDim}) {
		return fmt.Errorf("model: appearance variable has shape %v, want (%d, %d)", v.Value.Shape, O, cfg.AppearanceDim)
	}
	if opt.Instances != nil {
		if len(opt.Instances) != O {
			return fmt.Errorf("model: %d instance indices for %d objects", len(opt.Instances), O)
		}
		for i, k := range opt.Instances {
			if k < 0 || k >= max(cfg.InstanceEmbeddings, 1) {
				return fmt.Errorf("model: object %d has instance index %d, outside [0, %d)", i, k, max(cfg.InstanceEmbeddings, 1))
			}
		}
	}
	if opt.Noise != nil {
		want := []int{b.NumImages, cfg.LayoutNoiseDim, cfg.ImageSize[0], cfg.ImageSize[1]}
		if cfg.LayoutNoiseDim == 0 {
			return fmt.Errorf("model: noise given, but this model takes none (layout_noise_dim 0)")
		}
		if !nn.SameShape(opt.Noise.Shape, want) {
			return fmt.Errorf("model: noise has shape %v, want %v (N, Z, H, W)", opt.Noise.Shape, want)
		}
		if !nn.AllFinite(opt.Noise.Data) {
			return fmt.Errorf("model: noise contains NaN or infinite values")
		}
	}
	return nil
}
