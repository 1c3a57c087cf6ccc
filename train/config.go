package train

import (
	"fmt"

	"github.com/sg2im-go/sg2im/model"
)

// Config is a training run's hyperparameters under the release's flag
// names (scripts/train.py), which are also its JSON names in a
// checkpoint's "args".
type Config struct {
	BatchSize     int     `json:"batch_size"`
	NumIterations int     `json:"num_iterations"`
	LearningRate  float64 `json:"learning_rate"`
	// EvalModeAfter switches the generator's batch norms to eval mode, and
	// gives it a fresh optimiser, before iteration EvalModeAfter+1; a
	// negative value never switches.
	EvalModeAfter int `json:"eval_mode_after"`

	// The generator.
	ImageSize        [2]int `json:"image_size"` // H, W
	MaskSize         int    `json:"mask_size"`  // 0: no masks
	EmbeddingDim     int    `json:"embedding_dim"`
	GconvDim         int    `json:"gconv_dim"`
	GconvHiddenDim   int    `json:"gconv_hidden_dim"`
	GconvNumLayers   int    `json:"gconv_num_layers"`
	MLPNormalization string `json:"mlp_normalization"`
	RefinementDims   []int  `json:"refinement_network_dims"`
	Normalization    string `json:"normalization"`
	Activation       string `json:"activation"`
	LayoutNoiseDim   int    `json:"layout_noise_dim"`
	// BoxBiasInit, when set, replaces the initial bias of the box net's
	// last layer (x0, y0, x1, y1); see model.Generator.SetBoxBias.
	BoxBiasInit []float64 `json:"box_bias_init,omitempty"`
	// Options of this program beyond the release (model.Config), off at
	// zero.
	AppearanceDim      int     `json:"appearance_dim,omitempty"`
	AppearanceKLWeight float64 `json:"appearance_kl_weight,omitempty"`
	BoxSigmoid         bool    `json:"box_sigmoid,omitempty"`
	InstanceEmbeddings int     `json:"instance_embeddings,omitempty"`

	// Generator losses.
	L1PixelLossWeight  float64 `json:"l1_pixel_loss_weight"`
	BBoxPredLossWeight float64 `json:"bbox_pred_loss_weight"`
	MaskLossWeight     float64 `json:"mask_loss_weight"`

	// Discriminators; a zero weight leaves a discriminator out, as the
	// release does.
	DiscriminatorLossWeight float64 `json:"discriminator_loss_weight"`
	GANLossType             string  `json:"gan_loss_type"`
	DNormalization          string  `json:"d_normalization"`
	DPadding                string  `json:"d_padding"`
	DActivation             string  `json:"d_activation"`
	DObjArch                string  `json:"d_obj_arch"`
	CropSize                int     `json:"crop_size"`
	DObjWeight              float64 `json:"d_obj_weight"`
	ACLossWeight            float64 `json:"ac_loss_weight"`
	DImgArch                string  `json:"d_img_arch"`
	DImgWeight              float64 `json:"d_img_weight"`

	// Output.
	PrintEvery      int `json:"print_every"`
	CheckpointEvery int `json:"checkpoint_every"`
	// NumValSamples bounds the validation images drawn at each checkpoint.
	NumValSamples int `json:"num_val_samples"`

	Seed uint64 `json:"seed"`
}

// DefaultConfig is the release's defaults.
func DefaultConfig() Config {
	return Config{
		BatchSize: 32, NumIterations: 1000000, LearningRate: 1e-4, EvalModeAfter: 100000,
		ImageSize: [2]int{64, 64}, MaskSize: 16, EmbeddingDim: 128, GconvDim: 128, GconvHiddenDim: 512,
		GconvNumLayers: 5, MLPNormalization: "none", RefinementDims: []int{1024, 512, 256, 128, 64},
		Normalization: "batch", Activation: "leakyrelu-0.2", LayoutNoiseDim: 32,
		L1PixelLossWeight: 1, BBoxPredLossWeight: 10, MaskLossWeight: 0,
		DiscriminatorLossWeight: 0.01, GANLossType: "gan",
		DNormalization: "batch", DPadding: "valid", DActivation: "leakyrelu-0.2",
		DObjArch: "C4-64-2,C4-128-2,C4-256-2", CropSize: 32, DObjWeight: 1, ACLossWeight: 0.1,
		DImgArch: "C4-64-2,C4-128-2,C4-256-2", DImgWeight: 1,
		PrintEvery: 10, CheckpointEvery: 10000, NumValSamples: 1024,
	}
}

// ModelConfig is the generator's kwargs over vocabulary v.
func (c *Config) ModelConfig(v *model.Vocab) model.Config {
	return model.Config{
		ImageSize: c.ImageSize, EmbeddingDim: c.EmbeddingDim, GconvDim: c.GconvDim,
		GconvHiddenDim: c.GconvHiddenDim, GconvNumLayers: c.GconvNumLayers, GconvPooling: "avg",
		RefinementDims: append([]int(nil), c.RefinementDims...), Normalization: c.Normalization,
		Activation: c.Activation, MaskSize: c.MaskSize, MLPNormalization: c.MLPNormalization,
		LayoutNoiseDim: c.LayoutNoiseDim, Vocab: v,
		AppearanceDim: c.AppearanceDim, BoxSigmoid: c.BoxSigmoid, InstanceEmbeddings: c.InstanceEmbeddings,
	}
}

// DObjConfig is the object discriminator's kwargs; ok is false when the
// run has none (a zero discriminator or d_obj weight).
func (c *Config) DObjConfig() (d model.DConfig, ok bool) {
	d = model.DConfig{Arch: c.DObjArch, Normalization: c.DNormalization, Activation: c.DActivation,
		Padding: c.DPadding, ObjectSize: c.CropSize}
	return d, c.DiscriminatorLossWeight != 0 && c.DObjWeight != 0
}

// DImgConfig is the image discriminator's kwargs; ok is false when the
// run has none.
func (c *Config) DImgConfig() (d model.DConfig, ok bool) {
	d = model.DConfig{Arch: c.DImgArch, Normalization: c.DNormalization, Activation: c.DActivation,
		Padding: c.DPadding}
	return d, c.DiscriminatorLossWeight != 0 && c.DImgWeight != 0
}

// StepConfig is the loss weights and optimiser settings Trainer
// takes.
func (c *Config) StepConfig() StepConfig {
	return StepConfig{
		LearningRate: c.LearningRate, L1PixelLossWeight: float32(c.L1PixelLossWeight),
		BBoxPredLossWeight: float32(c.BBoxPredLossWeight), MaskLossWeight: float32(c.MaskLossWeight),
		DiscriminatorLossWeight: float32(c.DiscriminatorLossWeight), DObjWeight: float32(c.DObjWeight),
		DImgWeight: float32(c.DImgWeight), ACLossWeight: float32(c.ACLossWeight), GANLossType: c.GANLossType,
		AppearanceKLWeight: float32(c.AppearanceKLWeight),
	}
}

// maxBatch bounds the batch size (a 64x64 batch of this size is 1.5 GiB of
// images alone).
const maxBatch = 1 << 16

// Validate checks what a run needs beyond what the model checks itself,
// naming the flag to change.
func (c *Config) Validate() error {
	switch {
	case c.BatchSize < 1 || c.BatchSize > maxBatch:
		return fmt.Errorf("--batch_size %d: want 1..%d", c.BatchSize, maxBatch)
	case c.NumIterations < 0:
		return fmt.Errorf("--num_iterations %d: want at least 0", c.NumIterations)
	case !(c.LearningRate > 0) || c.LearningRate > 1:
		return fmt.Errorf("--learning_rate %g: want a value in (0, 1]", c.LearningRate)
	case c.PrintEvery < 1:
		return fmt.Errorf("--print_every %d: want at least 1", c.PrintEvery)
	case c.CheckpointEvery < 1:
		return fmt.Errorf("--checkpoint_every %d: want at least 1", c.CheckpointEvery)
	case c.NumValSamples < 0:
		return fmt.Errorf("--num_val_samples %d: want at least 0", c.NumValSamples)
	}
	for _, w := range []struct {
		name string
		v    float64
	}{{"l1_pixel_loss_weight", c.L1PixelLossWeight}, {"bbox_pred_loss_weight", c.BBoxPredLossWeight},
		{"mask_loss_weight", c.MaskLossWeight}, {"discriminator_loss_weight", c.DiscriminatorLossWeight},
		{"d_obj_weight", c.DObjWeight}, {"d_img_weight", c.DImgWeight}, {"ac_loss_weight", c.ACLossWeight},
		{"appearance_kl_weight", c.AppearanceKLWeight}} {
		if w.v < 0 || w.v > 1e6 || w.v != w.v {
			return fmt.Errorf("--%s %g: want a weight in [0, 1e6]", w.name, w.v)
		}
	}
	switch c.GANLossType {
	case "gan", "lsgan", "wgan":
	default:
		return fmt.Errorf("--gan_loss_type %q: want gan, lsgan or wgan", c.GANLossType)
	}
	if c.AppearanceDim > 0 && c.AppearanceKLWeight == 0 {
		return fmt.Errorf("--appearance_dim %d needs --appearance_kl_weight above 0 (e.g. 0.01), or the vectors drawn at inference will not be those the generator learned from", c.AppearanceDim)
	}
	if c.MaskLossWeight > 0 && c.MaskSize == 0 {
		return fmt.Errorf("--mask_loss_weight %g needs masks: set --mask_size above 0", c.MaskLossWeight)
	}
	// The generator's config, checked over a stand-in vocabulary.
	mc := c.ModelConfig(model.NewVocab(nil, nil))
	if err := mc.Validate(); err != nil {
		return fmt.Errorf("generator flags: %w", err)
	}
	for _, d := range []struct {
		name string
		get  func() (model.DConfig, bool)
	}{{"d_obj", c.DObjConfig}, {"d_img", c.DImgConfig}} {
		dc, ok := d.get()
		if !ok {
			continue
		}
		if _, err := model.ParseDConfig(mustJSON(dc)); err != nil {
			return fmt.Errorf("%s flags: %w", d.name, err)
		}
		if err := checkDiscriminatorFits(d.name, dc, c.ImageSize); err != nil {
			return err
		}
	}
	return nil
}

// checkDiscriminatorFits reports an arch whose convolutions shrink the
// input (the image, or the object crops) to nothing.
func checkDiscriminatorFits(name string, d model.DConfig, imageSize [2]int) error {
	h, w := imageSize[0], imageSize[1]
	what := fmt.Sprintf("%dx%d images", h, w)
	if name == "d_obj" {
		if d.ObjectSize < 2 {
			return fmt.Errorf("--crop_size %d: want at least 2", d.ObjectSize)
		}
		h, w = d.ObjectSize, d.ObjectSize
		what = fmt.Sprintf("%dx%d crops (--crop_size)", h, w)
	}
	specs, err := archSizes(d.Arch)
	if err != nil {
		return err
	}
	for _, s := range specs {
		pad := 0
		if d.Padding == "same" {
			pad = (s[0] - 1) / 2
		}
		h = (h+2*pad-s[0])/s[1] + 1
		w = (w+2*pad-s[0])/s[1] + 1
		if h < 1 || w < 1 {
			return fmt.Errorf("--%s_arch %q shrinks %s to nothing with %s padding; use a shorter arch, --d_padding same or larger inputs",
				name, d.Arch, what, d.Padding)
		}
	}
	return nil
}

// archSizes reads the kernel and stride of each "CK-C-S" entry.
func archSizes(arch string) ([][2]int, error) {
	var out [][2]int
	var k, c, s int
	for _, part := range splitComma(arch) {
		n, _ := fmt.Sscanf(part, "C%d-%d-%d", &k, &c, &s)
		switch n {
		case 2:
			s = 1
		case 3:
		default:
			return nil, fmt.Errorf("arch entry %q: want CK-C or CK-C-S", part)
		}
		out = append(out, [2]int{k, s})
	}
	return out, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
