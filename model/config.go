// Package model wires the sg2im generator from package nn: configuration,
// vocabulary, scene-graph encoding and the forward pass. It does no I/O.
package model

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Config is the release's model_kwargs, under the same names.
type Config struct {
	ImageSize        [2]int `json:"image_size"` // H, W
	EmbeddingDim     int    `json:"embedding_dim"`
	GconvDim         int    `json:"gconv_dim"`
	GconvHiddenDim   int    `json:"gconv_hidden_dim"`
	GconvNumLayers   int    `json:"gconv_num_layers"`
	GconvPooling     string `json:"gconv_pooling"`
	RefinementDims   []int  `json:"refinement_dims"`
	Normalization    string `json:"normalization"`
	Activation       string `json:"activation"`
	MaskSize         int    `json:"mask_size"`
	MLPNormalization string `json:"mlp_normalization"`
	LayoutNoiseDim   int    `json:"layout_noise_dim"`
	Vocab            *Vocab `json:"vocab"`

	// Options of this program beyond the release, all off at zero (and
	// then left out of model_kwargs, so the release's checkpoints read and
	// write exactly as before).

	// AppearanceDim gives every object an appearance vector z of this
	// width, painted into the layout beside its graph vector (Ashual and
	// Wolf, 2019): at training it is encoded from the real object's crop
	// (a conditional VAE), at inference drawn N(0, I) from the seed, so
	// the noise decides what the graph leaves open.
	AppearanceDim int `json:"appearance_dim,omitempty"`
	// AppearanceScale is the standard deviation of the appearance vectors
	// drawn at inference (0 means 1): below 1 trades variety for
	// faithfulness (the "truncation" of sampling). Training ignores it, so
	// it can be set on a trained model (sg2im convert --appearance_scale).
	AppearanceScale float64 `json:"appearance_scale,omitempty"`
	// BoxSigmoid ends the box net in a sigmoid instead of the release's
	// ReLU, so that every predicted box lies inside the image.
	BoxSigmoid bool `json:"box_sigmoid,omitempty"`
	// InstanceEmbeddings adds a learned embedding of each object's
	// instance index (its rank among the objects of its category in its
	// graph, capped at InstanceEmbeddings-1) to its object embedding, so
	// that "flower" and "flower#2" can be placed apart.
	InstanceEmbeddings int `json:"instance_embeddings,omitempty"`
}

// DefaultConfig is the release's training default (the coco64 model's
// architecture) over the given vocabulary.
func DefaultConfig(v *Vocab) Config {
	return Config{
		ImageSize:        [2]int{64, 64},
		EmbeddingDim:     128,
		GconvDim:         128,
		GconvHiddenDim:   512,
		GconvNumLayers:   5,
		GconvPooling:     "avg",
		RefinementDims:   []int{1024, 512, 256, 128, 64},
		Normalization:    "batch",
		Activation:       "leakyrelu-0.2",
		MaskSize:         16,
		MLPNormalization: "none",
		LayoutNoiseDim:   32,
		Vocab:            v,
	}
}

// retiredKwargs were accepted by older releases and mean nothing now.
var retiredKwargs = map[string]bool{
	"vec_noise_dim": true, "gconv_mode": true, "box_anchor": true, "decouple_obj_predictions": true,
}

// requiredKwargs have no safe default: guessing them would build a network
// of another shape than the weights.
var requiredKwargs = []string{"image_size", "embedding_dim", "gconv_dim", "gconv_hidden_dim",
	"gconv_num_layers", "refinement_dims", "vocab"}

// ParseConfig decodes model_kwargs JSON. Keys the model does not know are
// returned as warnings, not errors, as the release does.
func ParseConfig(kwargs []byte) (Config, []string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(kwargs, &raw); err != nil {
		return Config{}, nil, fmt.Errorf("model: model_kwargs is not a JSON object: %v", err)
	}
	for _, k := range requiredKwargs {
		if v, ok := raw[k]; !ok || string(v) == "null" {
			return Config{}, nil, fmt.Errorf("model: model_kwargs has no %q; the checkpoint is incomplete or not an sg2im model", k)
		}
	}
	var warnings []string
	known := map[string]bool{}
	for _, k := range jsonNames(Config{}) {
		known[k] = true
	}
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case retiredKwargs[k]:
			warnings = append(warnings, fmt.Sprintf("ignoring retired model_kwargs key %q", k))
			delete(raw, k)
		case !known[k]:
			warnings = append(warnings, fmt.Sprintf("ignoring unknown model_kwargs key %q", k))
			delete(raw, k)
		}
	}
	if v, ok := raw["image_size"]; ok {
		var side int
		if json.Unmarshal(v, &side) == nil {
			raw["image_size"] = json.RawMessage(fmt.Sprintf("[%d,%d]", side, side))
		}
	}
	// A mask_size of null means no masks, as 0 does.
	if string(raw["mask_size"]) == "null" {
		delete(raw, "mask_size")
	}
	cfg := Config{GconvPooling: "avg", Normalization: "batch", Activation: "leakyrelu-0.2", MLPNormalization: "none"}
	for k, v := range raw {
		one, _ := json.Marshal(map[string]json.RawMessage{k: v})
		if err := json.Unmarshal(one, &cfg); err != nil {
			return Config{}, nil, fmt.Errorf("model: model_kwargs %q = %s: %v", k, v, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, nil, err
	}
	return cfg, warnings, nil
}

// jsonNames lists the JSON names of a struct's fields, omitempty ones
// included.
func jsonNames(v any) []string {
	t := reflect.TypeOf(v)
	names := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// Limits keep a hostile config from allocating without bound.
const (
	maxDim       = 1 << 14 // any channel or hidden width
	maxImageSide = 1 << 12
	maxParams    = 1 << 30 // float32 values, 4 GiB
	maxInstances = 1 << 10
)

// Validate checks the config and says what to change.
func (c *Config) Validate() error {
	h, w := c.ImageSize[0], c.ImageSize[1]
	if h < 1 || w < 1 || h > maxImageSide || w > maxImageSide {
		return fmt.Errorf("model: image_size %v: each side must be in [1, %d]", c.ImageSize, maxImageSide)
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"embedding_dim", c.EmbeddingDim}, {"gconv_dim", c.GconvDim}, {"gconv_hidden_dim", c.GconvHiddenDim}} {
		if d.v < 1 || d.v > maxDim {
			return fmt.Errorf("model: %s = %d: must be in [1, %d]", d.name, d.v, maxDim)
		}
	}
	if c.GconvNumLayers < 0 || c.GconvNumLayers > 64 {
		return fmt.Errorf("model: gconv_num_layers = %d: must be in [0, 64]", c.GconvNumLayers)
	}
	if len(c.RefinementDims) == 0 {
		return fmt.Errorf("model: refinement_dims is empty: give at least one CRN width, e.g. [1024, 512, 256, 128, 64]")
	}
	for _, d := range c.RefinementDims {
		if d < 1 || d > maxDim {
			return fmt.Errorf("model: refinement_dims %v: every width must be in [1, %d]", c.RefinementDims, maxDim)
		}
	}
	k := len(c.RefinementDims)
	if k > 12 || h%(1<<k) != 0 || w%(1<<k) != 0 {
		return fmt.Errorf("model: image_size %dx%d is not divisible by 2^%d = %d (one halving per refinement_dims entry); change image_size or refinement_dims",
			h, w, k, 1<<min(k, 30))
	}
	if c.MaskSize < 0 || c.MaskSize > 1024 || (c.MaskSize > 0 && c.MaskSize&(c.MaskSize-1) != 0) {
		return fmt.Errorf("model: mask_size = %d: must be 0 (no masks) or a power of two up to 1024, e.g. 16", c.MaskSize)
	}
	if c.LayoutNoiseDim < 0 || c.LayoutNoiseDim > maxDim {
		return fmt.Errorf("model: layout_noise_dim = %d: must be in [0, %d]", c.LayoutNoiseDim, maxDim)
	}
	if c.AppearanceDim < 0 || c.AppearanceDim > maxDim {
		return fmt.Errorf("model: appearance_dim = %d: must be in [0, %d]", c.AppearanceDim, maxDim)
	}
	if !(c.AppearanceScale >= 0 && c.AppearanceScale <= 10) {
		return fmt.Errorf("model: appearance_scale = %g: must be in [0, 10] (0 means 1)", c.AppearanceScale)
	}
	if c.InstanceEmbeddings < 0 || c.InstanceEmbeddings > maxInstances {
		return fmt.Errorf("model: instance_embeddings = %d: must be in [0, %d]", c.InstanceEmbeddings, maxInstances)
	}
	switch c.GconvPooling {
	case "avg", "sum":
	default:
		return fmt.Errorf("model: gconv_pooling %q: want \"avg\" or \"sum\"", c.GconvPooling)
	}
	switch c.Normalization {
	case "batch", "instance", "none":
	default:
		return fmt.Errorf("model: normalization %q: want \"batch\", \"instance\" or \"none\"", c.Normalization)
	}
	switch c.MLPNormalization {
	case "batch", "none":
	default:
		return fmt.Errorf("model: mlp_normalization %q: want \"batch\" or \"none\"", c.MLPNormalization)
	}
	if _, err := LeakySlope(c.Activation); err != nil {
		return err
	}
	if c.Vocab == nil {
		return fmt.Errorf("model: config has no vocab")
	}
	if err := c.Vocab.Validate(); err != nil {
		return err
	}
	if n := c.numParams(); n > maxParams {
		return fmt.Errorf("model: config needs %d parameters, more than the %d this program allows", n, maxParams)
	}
	return nil
}

// LeakySlope is the negative slope the CRN and discriminators use for an
// activation name: the release builds a LeakyReLU for every name, 0.01
// unless "leakyrelu-<slope>" says otherwise.
func LeakySlope(name string) (float32, error) {
	switch {
	case name == "relu" || name == "leakyrelu":
		return 0.01, nil
	case strings.HasPrefix(name, "leakyrelu-"):
		s, err := strconv.ParseFloat(strings.TrimPrefix(name, "leakyrelu-"), 32)
		if err == nil && s >= 0 && s < 1e6 {
			return float32(s), nil
		}
	}
	return 0, fmt.Errorf("model: activation %q: want \"relu\", \"leakyrelu\" or \"leakyrelu-<slope>\" such as \"leakyrelu-0.2\"", name)
}

// numParams counts the float values of a generator with this config, in
// int64 so that absurd configs cannot overflow.
func (c *Config) numParams() int64 {
	var n int64
	add := func(v ...int) {
		p := int64(1)
		for _, x := range v {
			p *= int64(x)
		}
		n += p
	}
	E, D, Hd := c.EmbeddingDim, c.GconvDim, c.GconvHiddenDim
	add(len(c.Vocab.ObjectIdxToName)+1, E)
	add(len(c.Vocab.PredIdxToName), E)
	for l := 0; l < c.GconvNumLayers; l++ {
		in := D
		if l == 0 {
			in = E
		}
		add(3*in+1, Hd)
		add(Hd+1, 2*Hd+D)
		add(Hd+1, Hd)
		add(Hd+1, D)
	}
	add(D+1, Hd)
	add(Hd+1, 4)
	add(2*E+8+1, Hd)
	add(Hd+1, len(c.Vocab.PredIdxToName))
	if c.MaskSize > 0 {
		add(20, D, D, 9)
	}
	add(c.InstanceEmbeddings, E)
	if A := c.AppearanceDim; A > 0 {
		add(appearanceParams(A))
	}
	prev := 1
	for _, d := range c.RefinementDims {
		add(D+c.AppearanceDim+c.LayoutNoiseDim+prev, d, 9)
		add(d, d, 9)
		prev = d
	}
	add(prev, prev, 9)
	return n
}
