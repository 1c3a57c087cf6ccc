package model

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sg2im-go/sg2im/nn"
)

// DConfig is a discriminator's kwargs as the release stores them
// (d_img_kwargs, d_obj_kwargs).
type DConfig struct {
	Arch          string `json:"arch"`
	Normalization string `json:"normalization"`
	Activation    string `json:"activation"`
	Padding       string `json:"padding"`
	// ObjectSize is the crop side of the object discriminator.
	ObjectSize int `json:"object_size,omitempty"`
}

// ParseDConfig decodes discriminator kwargs; unknown keys are ignored.
func ParseDConfig(kwargs []byte) (DConfig, error) {
	c := DConfig{Normalization: "batch", Activation: "leakyrelu-0.2", Padding: "valid"}
	if err := json.Unmarshal(kwargs, &c); err != nil {
		return c, fmt.Errorf("model: discriminator kwargs: %v", err)
	}
	_, err := parseArch(c.Arch)
	if err == nil {
		_, err = LeakySlope(c.Activation)
	}
	if err == nil && c.Normalization != "batch" && c.Normalization != "instance" && c.Normalization != "none" {
		err = fmt.Errorf("model: discriminator normalization %q: want batch, instance or none", c.Normalization)
	}
	if err == nil && c.Padding != "valid" && c.Padding != "same" {
		err = fmt.Errorf("model: discriminator padding %q: want valid or same", c.Padding)
	}
	if n := c.numParams(); err == nil && n > maxParams {
		err = fmt.Errorf("model: discriminator arch %q needs more than %d parameters, the most this program allows", c.Arch, maxParams)
	}
	return c, err
}

// numParams counts the convolutions' values of c's arch (at least; the
// object discriminator adds its classifiers), saturating past maxParams.
func (c DConfig) numParams() int64 {
	specs, _ := parseArch(c.Arch)
	var n int64
	in := int64(3)
	for _, s := range specs {
		k, out := int64(s.k), int64(s.c)
		n = min(n+k*k*in*out+out, maxParams+1)
		in = out
	}
	return n
}

// convSpec is one "CK-C-S" entry of an arch string.
type convSpec struct{ k, c, stride int }

// parseArch reads arch strings like "C4-64-2,C4-128-2,C4-256-2".
func parseArch(arch string) ([]convSpec, error) {
	if strings.TrimSpace(arch) == "" {
		return nil, fmt.Errorf("model: empty discriminator arch; write e.g. C4-64-2,C4-128-2,C4-256-2")
	}
	var out []convSpec
	for _, part := range strings.Split(arch, ",") {
		part = strings.TrimSpace(part)
		vals := strings.Split(strings.TrimPrefix(part, "C"), "-")
		if !strings.HasPrefix(part, "C") || len(vals) < 2 || len(vals) > 3 {
			return nil, fmt.Errorf("model: arch entry %q: want CK-C or CK-C-S (kernel, channels, stride), e.g. C4-64-2", part)
		}
		spec := convSpec{stride: 1}
		ptrs := []*int{&spec.k, &spec.c, &spec.stride}
		for i, v := range vals {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxDim {
				return nil, fmt.Errorf("model: arch entry %q: %q is not a size in [1, %d]", part, v, maxDim)
			}
			*ptrs[i] = n
		}
		out = append(out, spec)
	}
	return out, nil
}

// cnn is build_cnn's sequence: convolutions, each but the first preceded
// by a norm and an activation.
type cnn struct {
	convs []conv
	norms []norm2d // norms[i] precedes convs[i+1]
	slope float32
	outC  int
}

func (r *registry) cnn(prefix string, c DConfig, inC int) cnn {
	specs, _ := parseArch(c.Arch)
	slope, _ := LeakySlope(c.Activation)
	net := cnn{slope: slope}
	idx := 0
	for i, s := range specs {
		if i > 0 {
			net.norms = append(net.norms, r.norm2d(prefix+strconv.Itoa(idx), c.Normalization, inC))
			if c.Normalization != "none" {
				idx++
			}
			idx++ // activation
		}
		pad := 0
		if c.Padding == "same" {
			pad = (s.k - 1) / 2
		}
		net.convs = append(net.convs, r.conv(prefix+strconv.Itoa(idx), inC, s.c, s.k, s.stride, pad))
		idx++
		inC = s.c
	}
	net.outC = inC
	return net
}

func (n cnn) forward(p pass, x *nn.Var) *nn.Var {
	for i, c := range n.convs {
		if i > 0 {
			x = p.tp.LeakyReLU(n.norms[i-1].forward(p, x), n.slope)
		}
		x = c.forward(p, x)
	}
	return x
}

// ImageDiscriminator is the release's PatchDiscriminator: its CNN's output
// map, every channel and position, is the real/fake scores.
type ImageDiscriminator struct {
	Config DConfig
	reg    registry
	net    cnn
}

// NewImageDiscriminator builds d_img. Its 1x1 "classifier" is kept in the
// state dict though forward never uses it, as in the release.
func NewImageDiscriminator(c DConfig) (*ImageDiscriminator, error) {
	if _, err := parseArch(c.Arch); err != nil {
		return nil, err
	}
	d := &ImageDiscriminator{Config: c}
	d.net = d.reg.cnn("cnn.", c, 3)
	d.reg.conv("classifier", d.net.outC, 1, 1, 1, 0)
	return d, nil
}

// Forward scores images (N, 3, H, W).
func (d *ImageDiscriminator) Forward(tp *nn.Tape, train bool, img *nn.Var) *nn.Var {
	return d.net.forward(pass{tp: tp, train: train}, img)
}

// ObjectDiscriminator is the release's AcCropDiscriminator: it crops every
// object box from its image and scores it as real or fake, and classifies
// it among the object categories.
type ObjectDiscriminator struct {
	Config DConfig
	reg    registry
	net    cnn
	fc     linear // discriminator.cnn.2
	real   linear
	obj    linear
}

// featureDim is the width of the object discriminator's shared features.
const featureDim = 1024

// NewObjectDiscriminator builds d_obj for numObjects categories.
func NewObjectDiscriminator(c DConfig, numObjects int) (*ObjectDiscriminator, error) {
	if _, err := parseArch(c.Arch); err != nil {
		return nil, err
	}
	if c.ObjectSize < 2 {
		return nil, fmt.Errorf("model: object discriminator crop size %d: want at least 2", c.ObjectSize)
	}
	d := &ObjectDiscriminator{Config: c}
	d.net = d.reg.cnn("discriminator.cnn.0.", c, 3)
	d.fc = d.reg.linear("discriminator.cnn.2", d.net.outC, featureDim)
	d.real = d.reg.linear("discriminator.real_classifier", featureDim, 1)
	d.obj = d.reg.linear("discriminator.obj_classifier", featureDim, numObjects)
	return d, nil
}

// Forward crops the objects' boxes (O, 4) from img (N, 3, H, W) and returns
// their real/fake scores (O, 1) and the auxiliary classification loss
// against the objects' ids.
func (d *ObjectDiscriminator) Forward(tp *nn.Tape, train bool, img *nn.Var, objs []int, boxes *nn.Tensor, objToImg []int) (scores, acLoss *nn.Var) {
	p := pass{tp: tp, train: train}
	crops := cropBoxes(tp, img, boxes, objToImg, d.Config.ObjectSize)
	x := d.net.forward(p, crops)
	vecs := d.fc.forward(p, tp.GlobalAvgPool(x))
	scores = d.real.forward(p, vecs)
	return scores, tp.CrossEntropy(d.obj.forward(p, vecs), objs)
}

// cropBoxes samples an S x S crop of every box from its image, with grid
// points linspace(x0, x1, S) by linspace(y0, y1, S) mapped to [-1, 1].
func cropBoxes(tp *nn.Tape, img *nn.Var, boxes *nn.Tensor, objToImg []int, S int) *nn.Var {
	O := boxes.Shape[0]
	// One copy of the image per object, then one grid per copy.
	src := tp.Gather(img, objToImg)
	grid := nn.New(O, S, S, 2)
	w1, w2 := nn.Linspace(1, 0, S), nn.Linspace(0, 1, S)
	for o := 0; o < O; o++ {
		b := boxes.Data[o*4 : o*4+4]
		x0, y0, x1, y1 := 2*b[0]-1, 2*b[1]-1, 2*b[2]-1, 2*b[3]-1
		g := grid.Data[o*S*S*2:][:S*S*2]
		for i := 0; i < S; i++ {
			y := w1[i]*y0 + w2[i]*y1
			for j := 0; j < S; j++ {
				g[(i*S+j)*2] = w1[j]*x0 + w2[j]*x1
				g[(i*S+j)*2+1] = y
			}
		}
	}
	return tp.GridSample(src, grid)
}

// Params, ParamVars, Buffers and LoadState mirror the generator's.

func (d *ImageDiscriminator) Params() []Named                         { return d.reg.params }
func (d *ImageDiscriminator) ParamVars() []*nn.Var                    { return d.reg.vars }
func (d *ImageDiscriminator) Buffers() []Named                        { return d.reg.buffers }
func (d *ImageDiscriminator) LoadState(s map[string]*nn.Tensor) error { return d.reg.load(s) }
func (d *ObjectDiscriminator) Params() []Named                        { return d.reg.params }
func (d *ObjectDiscriminator) ParamVars() []*nn.Var                   { return d.reg.vars }
func (d *ObjectDiscriminator) Buffers() []Named                       { return d.reg.buffers }
func (d *ObjectDiscriminator) LoadState(s map[string]*nn.Tensor) error {
	return d.reg.load(s)
}
