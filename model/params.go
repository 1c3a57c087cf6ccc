package model

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sg2im-go/sg2im/nn"
)

// Named is a tensor under its release state-dict name.
type Named struct {
	Name string
	T    *nn.Tensor
}

// registry collects a network's tensors under state-dict names, trainable
// parameters apart from running statistics.
type registry struct {
	params  []Named
	vars    []*nn.Var // params as variables, in the same order
	buffers []Named
	// optional buffers may be absent from a checkpoint (num_batches_tracked
	// before PyTorch 0.4.1).
	optional map[string]bool
	// countOnly registers shapes without allocating their values, which
	// are counted in count instead (scalars aside, as they may be optional).
	countOnly bool
	count     int64
}

// newTensor allocates a tensor, or in a countOnly registry counts its
// values and returns it without any.
func (r *registry) newTensor(shape ...int) *nn.Tensor {
	if !r.countOnly {
		return nn.New(shape...)
	}
	n := int64(1)
	for _, d := range shape {
		n *= int64(d)
	}
	if len(shape) > 0 {
		r.count += n
	}
	return &nn.Tensor{Shape: shape}
}

func (r *registry) param(name string, shape ...int) *nn.Var {
	t := r.newTensor(shape...)
	r.params = append(r.params, Named{name, t})
	v := nn.Param(t)
	r.vars = append(r.vars, v)
	return v
}

func (r *registry) buffer(name string, shape ...int) *nn.Tensor {
	t := r.newTensor(shape...)
	r.buffers = append(r.buffers, Named{name, t})
	return t
}

// pass is one forward pass: the tape that records it (nil for inference)
// and whether batch norms use batch statistics.
type pass struct {
	tp    *nn.Tape
	train bool
	prof  *profiler // eval passes only; nil records nothing
}

// linear is a fully connected layer: weight (Out, In), bias (Out).
type linear struct{ W, B *nn.Var }

func (r *registry) linear(prefix string, in, out int) linear {
	return linear{r.param(prefix+".weight", out, in), r.param(prefix+".bias", out)}
}

func (l linear) forward(p pass, x *nn.Var) *nn.Var {
	if p.prof == nil {
		return p.tp.Linear(x, l.W, l.B)
	}
	t0 := p.prof.start()
	y := p.tp.Linear(x, l.W, l.B)
	out, in := l.W.Value.Shape[0], l.W.Value.Shape[1]
	p.prof.add(linearLayer, t0, 2*int64(in)*int64(out)*int64(x.Value.Numel()/in))
	return y
}

// conv is a 2-D convolution with a square kernel.
type conv struct {
	W, B        *nn.Var
	stride, pad int
}

func (r *registry) conv(prefix string, in, out, k, stride, pad int) conv {
	return conv{r.param(prefix+".weight", out, in, k, k), r.param(prefix+".bias", out), stride, pad}
}

func (c conv) forward(p pass, x *nn.Var) *nn.Var { return p.tp.Conv2d(x, c.W, c.B, c.stride, c.pad) }

// batchNorm holds BatchNorm1d/2d parameters and running statistics.
type batchNorm struct {
	W, B      *nn.Var
	Mean, Var *nn.Tensor
	count     *nn.Tensor // num_batches_tracked
}

// bnEps is PyTorch's default batch-norm epsilon, which the release keeps.
const bnEps = 1e-5

func (r *registry) batchNorm(prefix string, c int) *batchNorm {
	bn := &batchNorm{
		W: r.param(prefix+".weight", c), B: r.param(prefix+".bias", c),
		Mean: r.buffer(prefix+".running_mean", c), Var: r.buffer(prefix+".running_var", c),
		count: r.buffer(prefix + ".num_batches_tracked"),
	}
	for i := range bn.W.Value.Data {
		bn.W.Value.Data[i] = 1
		bn.Var.Data[i] = 1
	}
	if r.optional == nil {
		r.optional = map[string]bool{}
	}
	r.optional[prefix+".num_batches_tracked"] = true
	return bn
}

// bnMomentum is PyTorch's default running-statistics momentum.
const bnMomentum = 0.1

func (bn *batchNorm) forward(p pass, x *nn.Var) *nn.Var {
	if p.train {
		bn.count.Data[0]++
	}
	return p.tp.BatchNorm(x, bn.W, bn.B, bn.Mean, bn.Var, p.train, bnMomentum, bnEps)
}

// load gives the registry's tensors the state's values. Every name must be
// present with the right shape, except optional buffers; nothing may be
// left over. The error lists all differences at once.
func (r *registry) load(state map[string]*nn.Tensor) error {
	var missing, wrong []string
	seen := map[string]bool{}
	for _, group := range [][]Named{r.params, r.buffers} {
		for _, p := range group {
			t, ok := state[p.Name]
			if !ok {
				if !r.optional[p.Name] {
					missing = append(missing, p.Name)
				}
				continue
			}
			seen[p.Name] = true
			if !nn.SameShape(t.Shape, p.T.Shape) {
				wrong = append(wrong, fmt.Sprintf("%s: checkpoint %v, model %v", p.Name, t.Shape, p.T.Shape))
			}
		}
	}
	var unexpected []string
	for name := range state {
		if !seen[name] {
			unexpected = append(unexpected, name)
		}
	}
	if len(missing)+len(wrong)+len(unexpected) > 0 {
		sort.Strings(unexpected)
		return &StateMismatchError{Missing: missing, Unexpected: unexpected, WrongShape: wrong}
	}
	// The network takes the state's memory instead of copying it: a
	// model then loads in about its file's size, its own never-touched
	// allocations left to the collector. The caller's state tensors now
	// are the network's.
	for _, group := range [][]Named{r.params, r.buffers} {
		for _, p := range group {
			if t, ok := state[p.Name]; ok {
				p.T.Data = t.Data
			}
		}
	}
	return nil
}

// StateMismatchError lists how a state dict differs from the network that
// the config describes.
type StateMismatchError struct {
	Missing, Unexpected, WrongShape []string
}

func (e *StateMismatchError) Error() string {
	var b strings.Builder
	b.WriteString("weights do not match the model config (a checkpoint of another architecture, or model_kwargs edited by hand)")
	list := func(what string, xs []string) {
		if len(xs) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n  %s (%d): ", what, len(xs))
		const show = 8
		for i, x := range xs {
			if i == show {
				fmt.Fprintf(&b, ", ... %d more", len(xs)-show)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(x)
		}
	}
	list("missing", e.Missing)
	list("unexpected", e.Unexpected)
	list("wrong shape", e.WrongShape)
	return b.String()
}
