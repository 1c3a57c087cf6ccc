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

func (m mlp) forward(p pass, x *nn.Var) *nn.Var { return m.run(p, x, p.tp.ReLU) }

// forwardSigmoid is forward with a sigmoid in place of the last ReLU.
func (m mlp) forwardSigmoid(p pass, x *nn.Var) *nn.Var { return m.run(p, x, p.tp.Sigmoid) }

func (m mlp) run(p pass, x *nn.Var, last func(*nn.Var) *nn.Var) *nn.Var {
	for i, l := range m.lins {
		x = l.forward(p, x)
		if m.bns[i] != nil {
			t0 := p.prof.start()
			x = m.bns[i].forward(p, x)
			p.prof.add(normLayer, t0, 0)
		}
		if i == len(m.lins)-1 {
			x = last(x)
		} else {
			x = p.tp.ReLU(x)
		}
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
func (g graphConv) forward(p pass, objs, preds *nn.Var, s, o []int) (*nn.Var, *nn.Var) {
	tp := p.tp
	numObjs := objs.Value.Shape[0]
	t := tp.Concat(1, tp.Gather(objs, s), preds, tp.Gather(objs, o))
	t = g.net1.forward(p, t)
	H, D := g.hidden, g.out
	newS := tp.SliceCols(t, 0, H)
	newP := tp.SliceCols(t, H, H+D)
	newO := tp.SliceCols(t, H+D, 2*H+D)
	// Subjects then objects, the release's scatter_add order.
	ends := append(append(make([]int, 0, 2*len(s)), s...), o...)
	pooled := tp.IndexAddRows(numObjs, ends, tp.Concat(0, newS, newO))
	if g.avg {
		counts := make([]float32, numObjs)
		for i := range s {
			counts[s[i]]++
			counts[o[i]]++
		}
		for i, c := range counts {
			counts[i] = max(c, 1)
		}
		pooled = tp.ScaleRows(pooled, counts)
	}
	return g.net2.forward(p, pooled), newP
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
func (m *maskNet) forward(p pass, vecs *nn.Var) *nn.Var {
	if p.tp == nil && !p.train {
		return nn.Const(m.forwardEval(p.prof, vecs.Value))
	}
	tp := p.tp
	O, D := vecs.Value.Shape[0], vecs.Value.Shape[1]
	x := tp.Reshape(vecs, O, D, 1, 1)
	for i := range m.convs {
		x = tp.UpsampleNearest(x, 2)
		x = m.bns[i].forward(p, x)
		x = tp.ReLU(m.convs[i].forward(p, x))
	}
	x = m.final.forward(p, x)
	return tp.Reshape(tp.Sigmoid(x), O, x.Value.Shape[2], x.Value.Shape[3])
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

func (n norm2d) forward(p pass, x *nn.Var) *nn.Var {
	switch n.kind {
	case "batch":
		return n.bn.forward(p, x)
	case "instance":
		return p.tp.InstanceNorm(x, instanceEps)
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
	layoutDim := cfg.GconvDim + cfg.AppearanceDim + cfg.LayoutNoiseDim
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

// forward paints an image (N, 3, H, W) from a layout (N, C, H, W) given
// as parts to concatenate along C (the scene layout and the noise).
func (c crn) forward(p pass, parts ...*nn.Var) *nn.Var {
	if p.tp == nil && !p.train {
		values := make([]*nn.Tensor, len(parts))
		for i, v := range parts {
			values[i] = v.Value
		}
		return nn.Const(c.forwardEval(p.prof, values...))
	}
	tp := p.tp
	layout := parts[0]
	if len(parts) > 1 {
		layout = tp.Concat(1, parts...)
	}
	N, H, W := layout.Value.Shape[0], layout.Value.Shape[2], layout.Value.Shape[3]
	k := len(c.mods)
	feats := nn.Const(nn.New(N, 1, H>>k, W>>k))
	for _, m := range c.mods {
		feats = tp.UpsampleNearest(feats, 2)
		lay := layout
		if f := H / feats.Value.Shape[2]; f > 1 {
			lay = tp.AvgPool2d(layout, f)
		}
		x := tp.Concat(1, lay, feats)
		x = tp.LeakyReLU(m.norm1.forward(p, m.conv1.forward(p, x)), c.slope)
		feats = tp.LeakyReLU(m.norm2.forward(p, m.conv2.forward(p, x)), c.slope)
	}
	x := tp.LeakyReLU(c.out1.forward(p, feats), c.slope)
	return c.out2.forward(p, x)
}
