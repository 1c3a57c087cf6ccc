package nn

import "math"

// ReLU returns max(x, 0) elementwise.
func ReLU(x *Tensor) *Tensor {
	y := New(x.Shape...)
	for i, v := range x.Data {
		if v > 0 {
			y.Data[i] = v
		}
	}
	return y
}

// LeakyReLU returns x where positive and slope*x elsewhere.
func LeakyReLU(x *Tensor, slope float32) *Tensor {
	y := New(x.Shape...)
	for i, v := range x.Data {
		if v > 0 {
			y.Data[i] = v
		} else {
			y.Data[i] = v * slope
		}
	}
	return y
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
		for i, v := range y.Data {
			if v > 0 {
				dx[i] += g.Data[i]
			}
		}
	}, x)
}

// LeakyReLU on a tape.
func (tp *Tape) LeakyReLU(x *Var, slope float32) *Var {
	y := LeakyReLU(x.Value, slope)
	return tp.result(y, func(g *Tensor) {
		dx := x.grad().Data
		for i, v := range x.Value.Data {
			if v > 0 {
				dx[i] += g.Data[i]
			} else {
				dx[i] += g.Data[i] * slope
			}
		}
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
