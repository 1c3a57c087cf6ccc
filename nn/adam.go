package nn

import (
	"math"
	"sync/atomic"
)

// Adam is PyTorch's Adam optimiser (no weight decay, no amsgrad), with
// per-parameter step counts and bias correction computed as PyTorch does.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	Params                []*Var
	// Optimiser state per parameter, in Params order (for checkpoints).
	M, V  [][]float32
	Steps []int64
}

// NewAdam makes an optimiser for params with PyTorch's default betas and eps.
func NewAdam(params []*Var, lr float64) *Adam {
	a := &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Params: params}
	a.M = make([][]float32, len(params))
	a.V = make([][]float32, len(params))
	a.Steps = make([]int64, len(params))
	for i, p := range params {
		a.M[i] = make([]float32, p.Value.Numel())
		a.V[i] = make([]float32, p.Value.Numel())
	}
	return a
}

// ZeroGrad drops every parameter's gradient.
func (a *Adam) ZeroGrad() {
	for _, p := range a.Params {
		p.Grad = nil
	}
}

// Step updates every parameter that has a gradient.
func (a *Adam) Step() {
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	// Parameters are independent: goroutines take the next one in turn
	// (their sizes differ too much to split the list evenly).
	var next atomic.Int64
	t := Threads()
	parallel(t, t, func(int, int) {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(a.Params) {
				return
			}
			if a.Params[i].Grad != nil {
				a.stepParam(i, b1, b2)
			}
		}
	})
}

// stepParam updates parameter i, which has a gradient.
func (a *Adam) stepParam(i int, b1, b2 float32) {
	p := a.Params[i]
	a.Steps[i]++
	t := float64(a.Steps[i])
	stepSize := float32(a.LR / (1 - math.Pow(a.Beta1, t)))
	bc2 := float32(math.Sqrt(1 - math.Pow(a.Beta2, t)))
	eps := float32(a.Eps)
	m, v, w := a.M[i], a.V[i], p.Value.Data
	for j, g := range p.Grad.Data {
		m[j] = m[j]*b1 + g*(1-b1)
		v[j] = v[j]*b2 + g*g*(1-b2)
		denom := float32(math.Sqrt(float64(v[j])))/bc2 + eps
		w[j] -= stepSize * m[j] / denom
	}
}
