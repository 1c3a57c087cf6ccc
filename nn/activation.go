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
