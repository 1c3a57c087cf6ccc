package model

import (
	"strconv"

	"github.com/sg2im-go/sg2im/nn"
)

// mlp is the release's build_mlp: Linear, optional BatchNorm1d and ReLU for
// every pair of widths, the last pair included (so its outputs are >= 0).
type mlp struct {
	lins []linear
	bns  []*batchNorm // nil entries without mlp_normalization
}

func (r *registry) mlp(prefix string, dims []int, withBN bool) mlp {
	var m mlp
	idx := 0
	for i := 0; i+1 < len(dims); i++ {
		m.lins = append(m.lins, r.linear(prefix+"."+strconv.Itoa(idx), dims[i], dims[i+1]))
		idx++
		var bn *batchNorm
		if withBN {
			bn = r.batchNorm(prefix+"."+strconv.Itoa(idx), dims[i+1])
			idx++
		}
		m.bns = append(m.bns, bn)
		idx++ // the ReLU
	}
	return m
}

func (m mlp) forward(x *nn.Tensor) *nn.Tensor {
	for i, l := range m.lins {
		x = l.forward(x)
		if m.bns[i] != nil {
			x = m.bns[i].forward(x)
		}
		x = nn.ReLU(x)
	}
	return x
}

// graphConv is one GraphTripleConv layer.
type graphConv struct {
	net1, net2  mlp
	hidden, out int
	avg         bool
}

func (r *registry) graphConv(prefix string, in, out, hidden int, cfg *Config) graphConv {
	bn := cfg.MLPNormalization == "batch"
	return graphConv{
		net1:   r.mlp(prefix+".net1", []int{3 * in, hidden, 2*hidden + out}, bn),
		net2:   r.mlp(prefix+".net2", []int{hidden, hidden, out}, bn),
		hidden: hidden, out: out,
		avg: cfg.GconvPooling == "avg",
	}
}

// forward updates object vectors (O, Din) and predicate vectors (T, Din)
// along the edges s[t] -> o[t].
func (g graphConv) forward(objs, preds *nn.Tensor, s, o []int) (*nn.Tensor, *nn.Tensor) {
	numObjs := objs.Shape[0]
	t := nn.Concat(1, nn.Gather(objs, s), preds, nn.Gather(objs, o))
	t = g.net1.forward(t)
	H, D := g.hidden, g.out
	newS := nn.SliceCols(t, 0, H)
	newP := nn.SliceCols(t, H, H+D)
	newO := nn.SliceCols(t, H+D, 2*H+D)
	pooled := nn.New(numObjs, H)
	nn.IndexAdd(pooled, s, newS)
	nn.IndexAdd(pooled, o, newO)
	if g.avg {
		counts := make([]float32, numObjs)
		for i := range s {
			counts[s[i]]++
			counts[o[i]]++
		}
		for i, c := range counts {
			c = max(c, 1)
			row := pooled.Data[i*H : (i+1)*H]
			for j := range row {
				row[j] /= c
			}
		}
	}
	return g.net2.forward(pooled), newP
}

// maskNet turns object vectors into M x M mask logits.
type maskNet struct {
	bns   []*batchNorm
	convs []conv
	final conv
}

func (r *registry) maskNet(dim, size int) *maskNet {
	m := &maskNet{}
	i := 0
	for s := 1; s < size; s *= 2 {
		// Sequence per block: Upsample 4i, BatchNorm 4i+1, Conv 4i+2, ReLU 4i+3.
		m.bns = append(m.bns, r.batchNorm("mask_net."+strconv.Itoa(4*i+1), dim))
		m.convs = append(m.convs, r.conv("mask_net."+strconv.Itoa(4*i+2), dim, dim, 3, 1, 1))
		i++
	}
	m.final = r.conv("mask_net."+strconv.Itoa(4*i), dim, 1, 1, 1, 0)
	return m
}

// forward maps (O, D) vectors to (O, M, M) masks in (0, 1).
func (m *maskNet) forward(vecs *nn.Tensor) *nn.Tensor {
	O, D := vecs.Shape[0], vecs.Shape[1]
	x := vecs.Reshape(O, D, 1, 1)
	for i := range m.convs {
		x = nn.UpsampleNearest(x, 2)
		x = m.bns[i].forward(x)
		x = nn.ReLU(m.convs[i].forward(x))
	}
	x = m.final.forward(x)
	return nn.Sigmoid(x).Reshape(O, x.Shape[2], x.Shape[3])
}

// norm2d is the CRN's normalization: batch, instance or none.
type norm2d struct {
	kind string
	bn   *batchNorm
}

// instanceEps is InstanceNorm2d's default epsilon.
const instanceEps = 1e-5

func (r *registry) norm2d(prefix, kind string, c int) norm2d {
	n := norm2d{kind: kind}
	if kind == "batch" {
		n.bn = r.batchNorm(prefix, c)
	}
	return n
}

func (n norm2d) forward(x *nn.Tensor) *nn.Tensor {
	switch n.kind {
	case "batch":
		return n.bn.forward(x)
	case "instance":
		return nn.InstanceNorm(x, instanceEps)
	}
	return x
}

// crnModule is one refinement module: conv, norm, act, conv, norm, act.
type crnModule struct {
	conv1, conv2 conv
	norm1, norm2 norm2d
}

// crn is the cascaded refinement network.
type crn struct {
	mods       []crnModule
	out1, out2 conv
	slope      float32
}

func (r *registry) crn(cfg *Config, slope float32) crn {
	c := crn{slope: slope}
	layoutDim := cfg.GconvDim + cfg.LayoutNoiseDim
	in := 1
	for k, out := range cfg.RefinementDims {
		p := "refinement_net.refinement_modules." + strconv.Itoa(k) + ".net."
		// Indices count conv, norm, act, conv, norm, act with "none" norms dropped.
		step := 3
		if cfg.Normalization == "none" {
			step = 2
		}
		m := crnModule{conv1: r.conv(p+"0", layoutDim+in, out, 3, 1, 1)}
		m.norm1 = r.norm2d(p+"1", cfg.Normalization, out)
		m.conv2 = r.conv(p+strconv.Itoa(step), out, out, 3, 1, 1)
		m.norm2 = r.norm2d(p+strconv.Itoa(step+1), cfg.Normalization, out)
		c.mods = append(c.mods, m)
		in = out
	}
	c.out1 = r.conv("refinement_net.output_conv.0", in, in, 3, 1, 1)
	c.out2 = r.conv("refinement_net.output_conv.2", in, 3, 1, 1, 0)
	return c
}

// forward paints an image (N, 3, H, W) from a layout (N, C, H, W).
func (c crn) forward(layout *nn.Tensor) *nn.Tensor {
	N, H, W := layout.Shape[0], layout.Shape[2], layout.Shape[3]
	k := len(c.mods)
	feats := nn.New(N, 1, H>>k, W>>k)
	for _, m := range c.mods {
		feats = nn.UpsampleNearest(feats, 2)
		lay := layout
		if f := H / feats.Shape[2]; f > 1 {
			lay = nn.AvgPool2d(layout, f)
		}
		x := nn.Concat(1, lay, feats)
		x = nn.LeakyReLU(m.norm1.forward(m.conv1.forward(x)), c.slope)
		feats = nn.LeakyReLU(m.norm2.forward(m.conv2.forward(x)), c.slope)
	}
	x := nn.LeakyReLU(c.out1.forward(feats), c.slope)
	return c.out2.forward(x)
}
