package nn

import (
	"fmt"
	"math"
)

// channels splits x (N, C, ...) into N, C and the size of one channel plane.
func channels(name string, x *Tensor) (n, c, plane int) {
	if len(x.Shape) < 2 {
		panic(fmt.Sprintf("nn: %s: want (N, C, ...), got %v", name, x.Shape))
	}
	n, c = x.Shape[0], x.Shape[1]
	plane = 1
	for _, d := range x.Shape[2:] {
		plane *= d
	}
	return n, c, plane
}

// BatchNormEval normalises channel c (dimension 1) of x (N, C) or
// (N, C, H, W) with running statistics, as batch norm does in eval mode.
func BatchNormEval(x, weight, bias, runMean, runVar *Tensor, eps float32) *Tensor {
	n, c, plane := channels("BatchNormEval", x)
	for _, p := range []*Tensor{weight, bias, runMean, runVar} {
		if p.Numel() != c {
			panic(fmt.Sprintf("nn: BatchNormEval: parameter %v for %d channels", p.Shape, c))
		}
	}
	y := New(x.Shape...)
	for ch := 0; ch < c; ch++ {
		inv := float32(1 / math.Sqrt(float64(runVar.Data[ch]+eps)))
		scale := weight.Data[ch] * inv
		shift := bias.Data[ch] - runMean.Data[ch]*scale
		for i := 0; i < n; i++ {
			src := x.Data[(i*c+ch)*plane:][:plane]
			dst := y.Data[(i*c+ch)*plane:][:plane]
			for j, v := range src {
				dst[j] = v*scale + shift
			}
		}
	}
	return y
}

// InstanceNorm normalises every (n, c) plane of x (N, C, H, W) to zero mean
// and unit biased variance, without affine parameters.
func InstanceNorm(x *Tensor, eps float32) *Tensor {
	n, c, plane := channels("InstanceNorm", x)
	y := New(x.Shape...)
	for i := 0; i < n*c; i++ {
		src := x.Data[i*plane:][:plane]
		mean, variance := meanVar(src)
		inv := float32(1 / math.Sqrt(variance+float64(eps)))
		m := float32(mean)
		dst := y.Data[i*plane:][:plane]
		for j, v := range src {
			dst[j] = (v - m) * inv
		}
	}
	return y
}

// meanVar returns the mean and biased variance of v, accumulated in float64.
func meanVar(v []float32) (mean, variance float64) {
	var sum float64
	for _, x := range v {
		sum += float64(x)
	}
	mean = sum / float64(len(v))
	var sq float64
	for _, x := range v {
		d := float64(x) - mean
		sq += d * d
	}
	return mean, sq / float64(len(v))
}
