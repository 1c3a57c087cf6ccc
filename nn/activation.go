package nn

import "math"

// ReLU returns max(x, 0) elementwise.
func ReLU(x *Tensor) *Tensor {
	y := New(x.Shape...)
	parallelFor(len(x.Data), 2, func(lo, hi int) {
		xs := x.Data[lo:hi]
		dst := y.Data[lo:hi][:len(xs)]
		for i, v := range xs {
			if v > 0 {
				dst[i] = v
			}
		}
	})
	return y
}

// LeakyReLU returns x where positive and slope*x elsewhere.
func LeakyReLU(x *Tensor, slope float32) *Tensor {
	y := New(x.Shape...)
	parallelFor(len(x.Data), 2, func(lo, hi int) {
		xs := x.Data[lo:hi]
		dst := y.Data[lo:hi][:len(xs)]
		for i, v := range xs {
			dst[i] = v * leakyFactor(v, slope)
		}
	})
	return y
}

// leakyFactor is 1 where v > 0, slope elsewhere: v*1 is v exactly, and the
// choice compiles to a conditional move, not a branch that the signs of
// activations mispredict half the time.
func leakyFactor(v, slope float32) float32 {
	// On the bits, as an integer choice (Go moves floats by branches):
	// int32(bits) > 0 is v > 0 for all but positive NaNs, whose product
	// is NaN either way.
	f := math.Float32bits(slope)
	if int32(math.Float32bits(v)) > 0 {
		f = 0x3f800000 // 1
	}
	return math.Float32frombits(f)
}

// Sigmoid returns 1 / (1 + exp(-x)) elementwise.
func Sigmoid(x *Tensor) *Tensor {
	y := New(x.Shape...)
	for i, v := range x.Data {
		y.Data[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
	return y
}

// ReLU on a tape.
func (tp *Tape) ReLU(x *Var) *Var {
	y := ReLU(x.Value)
	return tp.result(y, func(g *Tensor) {
		dx := x.grad().Data
		parallelFor(len(y.Data), 3, func(lo, hi int) {
			ys := y.Data[lo:hi]
			d, gs := dx[lo:hi][:len(ys)], g.Data[lo:hi][:len(ys)]
			for i, v := range ys {
				if v > 0 {
					d[i] += gs[i]
				}
			}
		})
	}, x)
}

// LeakyReLU on a tape.
func (tp *Tape) LeakyReLU(x *Var, slope float32) *Var {
	y := LeakyReLU(x.Value, slope)
	return tp.result(y, func(g *Tensor) {
		dx := x.grad().Data
		parallelFor(len(x.Value.Data), 3, func(lo, hi int) {
			xs := x.Value.Data[lo:hi]
			d, gd := dx[lo:hi][:len(xs)], g.Data[lo:hi][:len(xs)]
			for i, v := range xs {
				d[i] += gd[i] * leakyFactor(v, slope)
			}
		})
	}, x)
}

// Sigmoid on a tape.
func (tp *Tape) Sigmoid(x *Var) *Var {
	y := Sigmoid(x.Value)
	return tp.result(y, func(g *Tensor) {
		dx := x.grad().Data
		for i, s := range y.Data {
			dx[i] += g.Data[i] * s * (1 - s)
		}
	}, x)
}
