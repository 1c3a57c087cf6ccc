package nn

// Var is a tensor inside a computation that may be differentiated.
type Var struct {
	Value *Tensor
	// Grad accumulates d(loss)/d(Value) during Tape.Backward; nil until
	// backward reaches this variable. An op's output drops it again once
	// propagated to the op's inputs; a Param keeps it until ZeroGrad.
	Grad      *Tensor
	needsGrad bool
}

// Param wraps a trainable tensor: backward computes its gradient.
func Param(t *Tensor) *Var { return &Var{Value: t, needsGrad: true} }

// Const wraps a tensor that receives no gradient (data, noise, targets).
func Const(t *Tensor) *Var { return &Var{Value: t} }

// NeedsGrad reports whether backward computes a gradient for v.
func (v *Var) NeedsGrad() bool { return v.needsGrad }

// Shape is v.Value.Shape.
func (v *Var) Shape() []int { return v.Value.Shape }

// grad returns v's gradient, allocating zeros on first use.
func (v *Var) grad() *Tensor {
	if v.Grad == nil {
		v.Grad = New(v.Value.Shape...)
	}
	return v.Grad
}

// ZeroGrad drops the accumulated gradient.
func (v *Var) ZeroGrad() { v.Grad = nil }

// Tape records the backward step of every op run through it, so that
// Backward can replay them in reverse. A nil *Tape records nothing: the
// same forward code then runs as plain inference.
type Tape struct {
	back []func()
}

// NewTape returns an empty tape.
func NewTape() *Tape { return &Tape{} }

// result wraps an op's output; when recording and some input needs a
// gradient, back is queued to run during Backward once out has a gradient.
func (tp *Tape) result(out *Tensor, back func(g *Tensor), inputs ...*Var) *Var {
	v := &Var{Value: out}
	if tp == nil {
		return v
	}
	for _, in := range inputs {
		if in != nil && in.needsGrad {
			v.needsGrad = true
			break
		}
	}
	if v.needsGrad {
		tp.back = append(tp.back, func() {
			if v.Grad != nil {
				back(v.Grad)
				// Every consumer of v ran its backward before this one, so
				// v's gradient is spent: dropping it lets the collector
				// reclaim it during the rest of Backward.
				v.Grad = nil
			}
		})
	}
	return v
}

// Backward seeds d(loss)/d(loss) = 1 for a one-element loss and runs the
// recorded backward steps in reverse. The tape is emptied. The gradients
// of the ops' outputs are dropped once propagated; those of Params (and of
// other Vars not made by an op) remain.
func (tp *Tape) Backward(loss *Var) {
	if loss.Value.Numel() != 1 {
		panic("nn: Backward: loss must have one element")
	}
	loss.grad().Data[0] = 1
	for i := len(tp.back) - 1; i >= 0; i-- {
		tp.back[i]()
		// The step's closure holds the forward activations it used;
		// releasing it frees them as backward passes them, as PyTorch
		// frees saved tensors, rather than all at the end.
		tp.back[i] = nil
	}
	tp.back = tp.back[:0]
}

// addTo accumulates src into dst elementwise.
func addTo(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}
