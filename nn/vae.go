package nn

import (
	"fmt"
	"math"
)

// Add is a + b for tensors of one shape.
func (tp *Tape) Add(a, b *Var) *Var {
	if !SameShape(a.Value.Shape, b.Value.Shape) {
		panic(fmt.Sprintf("nn: Add: shapes %v and %v", a.Value.Shape, b.Value.Shape))
	}
	y := New(a.Value.Shape...)
	for i, v := range a.Value.Data {
		y.Data[i] = v + b.Value.Data[i]
	}
	return tp.result(y, func(g *Tensor) {
		for _, in := range []*Var{a, b} {
			if in.needsGrad {
				d := in.grad().Data
				for i, v := range g.Data {
					d[i] += v
				}
			}
		}
	}, a, b)
}

// Reparameterize is a variational autoencoder's sample
// mu + exp(logvar / 2) * eps (Kingma and Welling, 2014), eps a fixed
// standard normal draw of the same shape, differentiable in mu and logvar.
func (tp *Tape) Reparameterize(mu, logvar *Var, eps *Tensor) *Var {
	if !SameShape(mu.Value.Shape, logvar.Value.Shape) || !SameShape(mu.Value.Shape, eps.Shape) {
		panic(fmt.Sprintf("nn: Reparameterize: mu %v, logvar %v, eps %v", mu.Value.Shape, logvar.Value.Shape, eps.Shape))
	}
	y := New(mu.Value.Shape...)
	std := make([]float32, len(y.Data))
	for i, m := range mu.Value.Data {
		std[i] = float32(math.Exp(float64(logvar.Value.Data[i]) / 2))
		y.Data[i] = m + std[i]*eps.Data[i]
	}
	return tp.result(y, func(g *Tensor) {
		if mu.needsGrad {
			d := mu.grad().Data
			for i, v := range g.Data {
				d[i] += v
			}
		}
		if logvar.needsGrad {
			d := logvar.grad().Data
			for i, v := range g.Data {
				d[i] += v * std[i] * eps.Data[i] / 2
			}
		}
	}, mu, logvar)
}

// KLStdNormal is the Kullback-Leibler divergence of the diagonal Gaussians
// N(mu, exp(logvar)) (rows of (O, A)) from N(0, I), summed over A and
// averaged over the O rows: mean_o sum_a -(1 + logvar - mu^2 - exp(logvar)) / 2.
func (tp *Tape) KLStdNormal(mu, logvar *Var) *Var {
	if !SameShape(mu.Value.Shape, logvar.Value.Shape) || len(mu.Value.Shape) != 2 {
		panic(fmt.Sprintf("nn: KLStdNormal: mu %v, logvar %v; want one (O, A) shape", mu.Value.Shape, logvar.Value.Shape))
	}
	rows := float64(max(mu.Value.Shape[0], 1))
	var s float64
	for i, m := range mu.Value.Data {
		lv := float64(logvar.Value.Data[i])
		s += -(1 + lv - float64(m)*float64(m) - math.Exp(lv)) / 2
	}
	return tp.result(FromData([]float32{float32(s / rows)}, 1), func(g *Tensor) {
		k := g.Data[0] / float32(rows)
		if mu.needsGrad {
			d := mu.grad().Data
			for i, m := range mu.Value.Data {
				d[i] += k * m
			}
		}
		if logvar.needsGrad {
			d := logvar.grad().Data
			for i, lv := range logvar.Value.Data {
				d[i] += k * (float32(math.Exp(float64(lv))) - 1) / 2
			}
		}
	}, mu, logvar)
}
