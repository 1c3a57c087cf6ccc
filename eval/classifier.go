package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"

	"github.com/sg2im-go/sg2im/internal/atomicfile"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

// ClassifierConfig describes an object classifier: a CNN over S x S RGB
// crops (ImageNet-normalised, as the datasets and the generator give
// images) with one stage per entry of Channels, each a 3x3 convolution
// (padding 1), a ReLU and a 2x2 average pool, then a linear layer from the
// flattened last stage to one logit per class.
type ClassifierConfig struct {
	CropSize int      `json:"crop_size"`
	Channels []int    `json:"channels"`
	Classes  []string `json:"classes"`
}

// DefaultClassifierConfig is the shipped classifier's architecture over
// the given classes: 32x32 crops, stages of 16, 32 and 64 channels (about
// 40k parameters).
func DefaultClassifierConfig(classes []string) ClassifierConfig {
	return ClassifierConfig{CropSize: 32, Channels: []int{16, 32, 64}, Classes: classes}
}

// Limits on a classifier read from a file, so that a bad file cannot ask
// for huge allocations.
const (
	maxCropSize = 256
	maxChannels = 1024
	maxStages   = 6
	maxClasses  = 4096
)

// Validate checks that the config describes a network that can be built.
func (c ClassifierConfig) Validate() error {
	switch {
	case len(c.Channels) < 1 || len(c.Channels) > maxStages:
		return fmt.Errorf("eval: classifier has %d stages; want 1..%d", len(c.Channels), maxStages)
	case c.CropSize < 2 || c.CropSize > maxCropSize || c.CropSize%(1<<len(c.Channels)) != 0:
		return fmt.Errorf("eval: classifier crop size %d; want a multiple of 2^%d (one halving a stage) up to %d", c.CropSize, len(c.Channels), maxCropSize)
	case len(c.Classes) < 2 || len(c.Classes) > maxClasses:
		return fmt.Errorf("eval: classifier has %d classes; want 2..%d", len(c.Classes), maxClasses)
	}
	for _, ch := range c.Channels {
		if ch < 1 || ch > maxChannels {
			return fmt.Errorf("eval: classifier stage of %d channels; want 1..%d", ch, maxChannels)
		}
	}
	seen := map[string]bool{}
	for _, name := range c.Classes {
		if name == "" || seen[name] {
			return fmt.Errorf("eval: classifier class %q is empty or repeated", name)
		}
		seen[name] = true
	}
	return nil
}

// numParams counts the values of a classifier of a valid c.
func (c ClassifierConfig) numParams() int64 {
	n, in := int64(0), int64(3)
	for _, ch := range c.Channels {
		n += int64(ch)*in*9 + int64(ch)
		in = int64(ch)
	}
	side := int64(c.CropSize >> len(c.Channels))
	return n + int64(len(c.Classes))*(in*side*side+1)
}

// Classifier is a small CNN that names the object in a crop.
type Classifier struct {
	Config ClassifierConfig
	convW  []*nn.Var // stage i: (Channels[i], in, 3, 3)
	convB  []*nn.Var
	fcW    *nn.Var // (classes, Channels[-1] * side * side)
	fcB    *nn.Var
}

// NewClassifier builds a classifier with zero weights (InitRandom or a
// loaded file fills them).
func NewClassifier(cfg ClassifierConfig) (*Classifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Classifier{Config: cfg}
	in := 3
	for _, ch := range cfg.Channels {
		c.convW = append(c.convW, nn.Param(nn.New(ch, in, 3, 3)))
		c.convB = append(c.convB, nn.Param(nn.New(ch)))
		in = ch
	}
	side := cfg.CropSize >> len(cfg.Channels)
	c.fcW = nn.Param(nn.New(len(cfg.Classes), in*side*side))
	c.fcB = nn.Param(nn.New(len(cfg.Classes)))
	return c, nil
}

// named lists the parameters under their file names, in a fixed order.
func (c *Classifier) named() []weights.Tensor {
	var out []weights.Tensor
	for i := range c.convW {
		p := "conv" + strconv.Itoa(i)
		out = append(out, weights.Tensor{Name: p + ".weight", DType: weights.F32, T: c.convW[i].Value},
			weights.Tensor{Name: p + ".bias", DType: weights.F32, T: c.convB[i].Value})
	}
	return append(out, weights.Tensor{Name: "fc.weight", DType: weights.F32, T: c.fcW.Value},
		weights.Tensor{Name: "fc.bias", DType: weights.F32, T: c.fcB.Value})
}

// Params lists the trainable parameters.
func (c *Classifier) Params() []*nn.Var {
	var out []*nn.Var
	for i := range c.convW {
		out = append(out, c.convW[i], c.convB[i])
	}
	return append(out, c.fcW, c.fcB)
}

// InitRandom draws the weights: convolutions Kaiming-normal N(0, 2/fan_in)
// (they feed ReLUs), the linear layer uniform in ±1/sqrt(fan_in), biases
// zero.
func (c *Classifier) InitRandom(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0xc1a55))
	for _, w := range c.convW {
		std := math.Sqrt(2 / float64(w.Value.Numel()/w.Value.Shape[0]))
		for i := range w.Value.Data {
			w.Value.Data[i] = float32(rng.NormFloat64() * std)
		}
	}
	bound := 1 / math.Sqrt(float64(c.fcW.Value.Shape[1]))
	for i := range c.fcW.Value.Data {
		c.fcW.Value.Data[i] = float32((2*rng.Float64() - 1) * bound)
	}
	for _, b := range append(c.convB, c.fcB) {
		clear(b.Value.Data)
	}
}

// Logits runs the network on crops (O, 3, S, S), recording on tp (nil for
// inference), and returns (O, classes).
func (c *Classifier) Logits(tp *nn.Tape, crops *nn.Var) *nn.Var {
	S := c.Config.CropSize
	if s := crops.Shape(); len(s) != 4 || s[1] != 3 || s[2] != S || s[3] != S {
		panic(fmt.Sprintf("eval: classifier wants crops (O, 3, %d, %d), got %v", S, S, s))
	}
	return tp.Linear(c.features(tp, crops), c.fcW, c.fcB)
}

// features is the penultimate layer: the last stage flattened, (O, F),
// the input of the linear layer.
func (c *Classifier) features(tp *nn.Tape, crops *nn.Var) *nn.Var {
	x := crops
	for i := range c.convW {
		x = tp.AvgPool2d(tp.ReLU(tp.Conv2d(x, c.convW[i], c.convB[i], 1, 1)), 2)
	}
	return tp.Reshape(x, x.Shape()[0], c.fcW.Value.Shape[1])
}

// FeatureDim is the width of the penultimate features.
func (c *Classifier) FeatureDim() int { return c.fcW.Value.Shape[1] }

// predictChunk bounds the crops of one inference pass, so that memory
// stays small for any number of objects.
const predictChunk = 256

// Predict returns the top-1 class index of every crop (O, 3, S, S).
func (c *Classifier) Predict(crops *nn.Tensor) []int {
	classes, _ := c.PredictFeatures(crops)
	return classes
}

// PredictFeatures returns the top-1 class index of every crop (O, 3, S, S)
// and its penultimate features (O, FeatureDim).
func (c *Classifier) PredictFeatures(crops *nn.Tensor) ([]int, *nn.Tensor) {
	O := crops.Shape[0]
	per := crops.Numel() / max(O, 1)
	out := make([]int, 0, O)
	F := c.FeatureDim()
	feats := nn.New(O, F)
	for lo := 0; lo < O; lo += predictChunk {
		hi := min(lo+predictChunk, O)
		x := nn.FromData(crops.Data[lo*per:hi*per], append([]int{hi - lo}, crops.Shape[1:]...)...)
		f := c.features(nil, nn.Const(x))
		copy(feats.Data[lo*F:hi*F], f.Value.Data)
		logits := nn.Linear(f.Value, c.fcW.Value, c.fcB.Value)
		k := logits.Shape[1]
		for r := 0; r < hi-lo; r++ {
			row := logits.Data[r*k : (r+1)*k]
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
			}
			out = append(out, best)
		}
	}
	return out, feats
}

// ClassIndex returns the index of a class name, or -1.
func (c *Classifier) ClassIndex(name string) int {
	for i, n := range c.Config.Classes {
		if n == name {
			return i
		}
	}
	return -1
}

// Metadata keys of a classifier file.
const (
	metaFormat   = "format"
	formatName   = "sg2im-classifier"
	metaConfig   = "config"
	metaTraining = "training"
)

// Write writes the classifier as a safetensors file: the weights, the
// config (JSON, under "config") and how it was trained (JSON, under
// "training"; may be nil).
func (c *Classifier) Write(w io.Writer, info *TrainInfo) error {
	cfg, err := json.Marshal(c.Config)
	if err != nil {
		return err
	}
	meta := map[string]string{metaFormat: formatName, metaConfig: string(cfg)}
	if info != nil {
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		meta[metaTraining] = string(b)
	}
	return weights.WriteSafetensors(w, meta, c.named())
}

// Save writes the classifier to path atomically.
func (c *Classifier) Save(path string, info *TrainInfo) error {
	return atomicfile.Write(path, func(w io.Writer) error { return c.Write(w, info) })
}

// LoadClassifier reads a classifier file written by Save.
func LoadClassifier(path string) (*Classifier, *TrainInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("eval: reading the classifier: %w (train one with `sg2im eval --train_classifier --out FILE`)", err)
	}
	c, info, err := DecodeClassifier(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, info, nil
}

// DecodeClassifier parses a classifier file's bytes.
func DecodeClassifier(b []byte) (*Classifier, *TrainInfo, error) {
	f, err := weights.ReadSafetensors(b)
	if err != nil {
		return nil, nil, err
	}
	if f.Metadata[metaFormat] != formatName {
		return nil, nil, fmt.Errorf("eval: not a classifier file (metadata format %q, want %q)", f.Metadata[metaFormat], formatName)
	}
	var cfg ClassifierConfig
	if err := json.Unmarshal([]byte(f.Metadata[metaConfig]), &cfg); err != nil {
		return nil, nil, fmt.Errorf("eval: classifier config: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	// The file must hold the network's values before it is allocated.
	held := int64(0)
	for _, t := range f.Tensors {
		held += int64(len(t.T.Data))
	}
	if need := cfg.numParams(); need > held {
		return nil, nil, fmt.Errorf("eval: the classifier config describes %d parameters but the file holds only %d values; it is corrupt", need, held)
	}
	c, err := NewClassifier(cfg)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range c.named() {
		t := f.Get(p.Name)
		if t == nil {
			return nil, nil, fmt.Errorf("eval: classifier file has no tensor %q", p.Name)
		}
		if !nn.SameShape(t.T.Shape, p.T.Shape) {
			return nil, nil, fmt.Errorf("eval: classifier tensor %q has shape %v, the config wants %v", p.Name, t.T.Shape, p.T.Shape)
		}
		if !nn.AllFinite(t.T.Data) {
			return nil, nil, fmt.Errorf("eval: classifier tensor %q holds NaN or infinite values", p.Name)
		}
		copy(p.T.Data, t.T.Data)
	}
	if len(f.Tensors) != len(c.named()) {
		return nil, nil, fmt.Errorf("eval: classifier file has %d tensors, the config wants %d", len(f.Tensors), len(c.named()))
	}
	var info *TrainInfo
	if s, ok := f.Metadata[metaTraining]; ok {
		info = new(TrainInfo)
		if err := json.Unmarshal([]byte(s), info); err != nil {
			return nil, nil, fmt.Errorf("eval: classifier training record: %v", err)
		}
	}
	return c, info, nil
}
