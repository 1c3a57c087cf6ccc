package nn

import (
	"fmt"
	"math"
)

// Losses reduce to a one-element tensor by the mean, as PyTorch's defaults.

func scalar(v float64) *Tensor { return FromData([]float32{float32(v)}, 1) }

func sameShapes(name string, a, b *Tensor) {
	if !SameShape(a.Shape, b.Shape) {
		panic(fmt.Sprintf("nn: %s: shapes %v and %v", name, a.Shape, b.Shape))
	}
}

// L1Loss is mean |pred - target|.
func (tp *Tape) L1Loss(pred, target *Var) *Var {
	sameShapes("L1Loss", pred.Value, target.Value)
	var s float64
	for i, p := range pred.Value.Data {
		s += math.Abs(float64(p - target.Value.Data[i]))
	}
	n := float32(len(pred.Value.Data))
	return tp.result(scalar(s/float64(n)), func(g *Tensor) {
		k := g.Data[0] / n
		for i, p := range pred.Value.Data {
			d := p - target.Value.Data[i]
			var sg float32
			switch {
			case d > 0:
				sg = k
			case d < 0:
				sg = -k
			}
			if pred.needsGrad {
				pred.grad().Data[i] += sg
			}
			if target.needsGrad {
				target.grad().Data[i] -= sg
			}
		}
	}, pred, target)
}

// MSELoss is mean (pred - target)².
func (tp *Tape) MSELoss(pred, target *Var) *Var {
	sameShapes("MSELoss", pred.Value, target.Value)
	var s float64
	for i, p := range pred.Value.Data {
		d := float64(p - target.Value.Data[i])
		s += d * d
	}
	n := float32(len(pred.Value.Data))
	return tp.result(scalar(s/float64(n)), func(g *Tensor) {
		k := 2 * g.Data[0] / n
		for i, p := range pred.Value.Data {
			d := (p - target.Value.Data[i]) * k
			if pred.needsGrad {
				pred.grad().Data[i] += d
			}
			if target.needsGrad {
				target.grad().Data[i] -= d
			}
		}
	}, pred, target)
}

// BCELoss is the mean binary cross-entropy of probabilities p against
// targets t; logs are clamped at -100 as PyTorch does.
func (tp *Tape) BCELoss(p *Var, t *Tensor) *Var {
	sameShapes("BCELoss", p.Value, t)
	var s float64
	for i, pv := range p.Value.Data {
		tv := float64(t.Data[i])
		s -= tv*math.Max(math.Log(float64(pv)), -100) + (1-tv)*math.Max(math.Log(1-float64(pv)), -100)
	}
	n := float64(len(p.Value.Data))
	return tp.result(scalar(s/n), func(g *Tensor) {
		const eps = 1e-12 // PyTorch's floor on p(1-p)
		k := float64(g.Data[0]) / n
		dp := p.grad().Data
		for i, pv := range p.Value.Data {
			x := float64(pv)
			dp[i] += float32(k * (x - float64(t.Data[i])) / math.Max(x*(1-x), eps))
		}
	}, p)
}

// BCEWithLogits is the mean of max(x, 0) - x*y + log(1 + exp(-|x|)), the
// stable binary cross-entropy of logits x against a constant target y.
func (tp *Tape) BCEWithLogits(x *Var, y float32) *Var {
	var s float64
	for _, v := range x.Value.Data {
		f := float64(v)
		s += math.Max(f, 0) - f*float64(y) + math.Log1p(math.Exp(-math.Abs(f)))
	}
	n := float64(len(x.Value.Data))
	return tp.result(scalar(s/n), func(g *Tensor) {
		k := float64(g.Data[0]) / n
		dx := x.grad().Data
		for i, v := range x.Value.Data {
			dx[i] += float32(k * (1/(1+math.Exp(-float64(v))) - float64(y)))
		}
	}, x)
}

// CrossEntropy is the mean over rows of logits (N, C) of
// logsumexp(row) - row[label].
func (tp *Tape) CrossEntropy(logits *Var, labels []int) *Var {
	mustRank("CrossEntropy", logits.Value, 2)
	n, c := logits.Value.Shape[0], logits.Value.Shape[1]
	if len(labels) != n {
		panic(fmt.Sprintf("nn: CrossEntropy: %d labels for %d rows", len(labels), n))
	}
	probs := make([]float64, n*c)
	var s float64
	for i := 0; i < n; i++ {
		row := logits.Value.Data[i*c : (i+1)*c]
		if labels[i] < 0 || labels[i] >= c {
			panic(fmt.Sprintf("nn: CrossEntropy: label %d of %d classes", labels[i], c))
		}
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		var z float64
		for j, v := range row {
			probs[i*c+j] = math.Exp(float64(v) - m)
			z += probs[i*c+j]
		}
		for j := range row {
			probs[i*c+j] /= z
		}
		s += m + math.Log(z) - float64(row[labels[i]])
	}
	return tp.result(scalar(s/float64(n)), func(g *Tensor) {
		k := float64(g.Data[0]) / float64(n)
		dx := logits.grad().Data
		for i := 0; i < n; i++ {
			for j := 0; j < c; j++ {
				d := probs[i*c+j]
				if j == labels[i] {
					d--
				}
				dx[i*c+j] += float32(k * d)
			}
		}
	}, logits)
}

// Mean is the mean of all values of x.
func (tp *Tape) Mean(x *Var) *Var {
	var s float64
	for _, v := range x.Value.Data {
		s += float64(v)
	}
	n := float32(len(x.Value.Data))
	return tp.result(scalar(s/float64(n)), func(g *Tensor) {
		d := g.Data[0] / n
		dx := x.grad().Data
		for i := range dx {
			dx[i] += d
		}
	}, x)
}

// WeightedSum returns sum_i w[i] * terms[i] of one-element terms.
func (tp *Tape) WeightedSum(terms []*Var, w []float32) *Var {
	if len(terms) != len(w) {
		panic("nn: WeightedSum: one weight per term")
	}
	var s float32
	for i, t := range terms {
		s += w[i] * t.Value.Data[0]
	}
	return tp.result(FromData([]float32{s}, 1), func(g *Tensor) {
		for i, t := range terms {
			if t.needsGrad {
				t.grad().Data[0] += w[i] * g.Data[0]
			}
		}
	}, terms...)
}
