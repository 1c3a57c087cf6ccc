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
	Vocab            *Vocab `json:"vocab,omitempty"`

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
// returned as one warning, not an error, as the release does; retired keys
// (RetiredKwargs), which the release's own checkpoints carry and which
// change nothing, are dropped without one.
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
	var unknown []string
	for k := range raw {
		switch {
		case retiredKwargs[k]:
			delete(raw, k)
		case !known[k]:
			unknown = append(unknown, k)
			delete(raw, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		warnings = append(warnings, fmt.Sprintf("ignoring unknown model_kwargs %s %s", plural(len(unknown), "key", "keys"), quoteAll(unknown)))
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

// RetiredKwargs lists, sorted, the keys of model_kwargs JSON that older
// releases wrote and that mean nothing now; ParseConfig ignores them.
func RetiredKwargs(kwargs []byte) []string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(kwargs, &raw) != nil {
		return nil
	}
	var keys []string
	for k := range raw {
		if retiredKwargs[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// DropRetiredKwargs returns model_kwargs JSON without its retired keys,
// unchanged when it has none.
func DropRetiredKwargs(kwargs []byte) ([]byte, error) {
	if len(RetiredKwargs(kwargs)) == 0 {
		return kwargs, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(kwargs, &raw); err != nil {
		return nil, err
	}
	for k := range retiredKwargs {
		delete(raw, k)
	}
	return json.Marshal(raw)
}

func quoteAll(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = strconv.Quote(w)
	}
	return strings.Join(q, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// jsonNames lists the JSON names of a struct's fields.
func jsonNames(v any) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
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
	// MaxActivationBytes bounds the memory one forward pass may need
	// (ActivationBytes), for one image of a graph of MaxObjectsPerGraph
	// objects when a config is validated, for a whole batch before it runs.
	MaxActivationBytes = 1 << 30
	maxInstances       = 1 << 10
)

// ActivationBytes estimates, from above, the bytes of the activations an
// inference pass over images images holding objects objects and triples
// relationships in all (__image__ objects and __in_image__ triples
// included) allocates. Computed in float64 so that no config can overflow
// it.
func (c *Config) ActivationBytes(images, objects, triples int) float64 {
	perImage, perObject, perTriple := c.activationsPer()
	return float64(images)*perImage + float64(objects)*perObject + float64(triples)*perTriple
}

// activationsPer is ActivationBytes' bytes per image (layout, noise, CRN
// features at every scale, output), per object (graph-convolution vectors,
// sampling grid, painted plane, mask-net features) and per triple
// (graph-convolution vectors, predicate scores).
func (c *Config) activationsPer() (perImage, perObject, perTriple float64) {
	H, W := float64(c.ImageSize[0]), float64(c.ImageSize[1])
	D, Z, M := float64(c.GconvDim), float64(c.LayoutNoiseDim), float64(c.MaskSize)
	E, Hd := float64(c.EmbeddingDim), float64(c.GconvHiddenDim)
	L := D + float64(c.AppearanceDim) // layout channels: graph vectors and appearance vectors

	preds := 0.0
	if c.Vocab != nil {
		preds = float64(len(c.Vocab.PredIdxToName))
	}
	gconv := 2 * (E + 4*Hd + 4*D) // one layer's inputs, hidden and outputs, two alive
	perObject = 3*H*W + 2*L*M*M + M*M + gconv
	perTriple = gconv + 2*preds + 2*E + 16
	perImage = (L + 2*Z + 3) * H * W
	k := len(c.RefinementDims)
	for i, d := range c.RefinementDims {
		scale := float64(int64(1) << min(2*(k-1-i), 62))
		perImage += (2*float64(d) + L + Z) * H * W / scale
	}
	if k > 0 {
		perImage += float64(c.RefinementDims[k-1]) * H * W // the output convolution's input
	}
	return 4 * perImage, 4 * perObject, 4 * perTriple
}

// Worst case of one graph: its objects and triples with the __image__
// object and its __in_image__ triples.
const (
	fullGraphObjects = MaxObjectsPerGraph + 1
	fullGraphTriples = MaxTriplesPerGraph + MaxObjectsPerGraph
)

// checkActivations refuses a config whose single image of a full graph
// would need more than MaxActivationBytes, naming what asks for most.
func (c *Config) checkActivations() error {
	img, obj, tri := c.activationsPer()
	obj *= fullGraphObjects
	tri *= fullGraphTriples
	need := img + obj + tri
	if need <= MaxActivationBytes {
		return nil
	}
	var what string
	switch {
	case img >= obj && img >= tri:
		what = fmt.Sprintf("image_size %v with refinement_dims %v", c.ImageSize, c.RefinementDims)
	case obj >= tri:
		what = fmt.Sprintf("image_size %v with mask_size %d and gconv_dim %d, for each of %d objects,", c.ImageSize, c.MaskSize, c.GconvDim, MaxObjectsPerGraph)
	default:
		what = fmt.Sprintf("a vocabulary of %d predicates with gconv_hidden_dim %d, for each of %d relationships,", len(c.Vocab.PredIdxToName), c.GconvHiddenDim, MaxTriplesPerGraph)
	}
	return fmt.Errorf("model: %s needs about %.0f MiB of activations for one image of a full graph, more than the %d MiB this program allows; the checkpoint is corrupt, or its config is far larger than any sg2im model's",
		what, need/(1<<20), MaxActivationBytes>>20)
}

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
	return c.checkActivations()
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
