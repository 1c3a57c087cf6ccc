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

// BatchNorm on a tape. In train mode it normalises with the batch's
// biased statistics and moves the running statistics toward them by
// momentum (the variance unbiased, as PyTorch does); in eval mode it uses
// the running statistics. x is (N, C) or (N, C, H, W).
func (tp *Tape) BatchNorm(x, weight, bias *Var, runMean, runVar *Tensor, train bool, momentum, eps float32) *Var {
	if !train {
		y := BatchNormEval(x.Value, weight.Value, bias.Value, runMean, runVar, eps)
		return tp.result(y, func(g *Tensor) {
			n, c, plane := channels("BatchNorm", x.Value)
			for ch := 0; ch < c; ch++ {
				inv := float32(1 / math.Sqrt(float64(runVar.Data[ch]+eps)))
				scale := weight.Value.Data[ch] * inv
				var dw, db float64
				for i := 0; i < n; i++ {
					off := (i*c + ch) * plane
					gs := g.Data[off : off+plane]
					xs := x.Value.Data[off : off+plane]
					for j, gv := range gs {
						db += float64(gv)
						dw += float64(gv) * float64((xs[j]-runMean.Data[ch])*inv)
					}
					if x.needsGrad {
						dx := x.grad().Data[off : off+plane]
						for j, gv := range gs {
							dx[j] += gv * scale
						}
					}
				}
				if weight.needsGrad {
					weight.grad().Data[ch] += float32(dw)
				}
				if bias.needsGrad {
					bias.grad().Data[ch] += float32(db)
				}
			}
		}, x, weight, bias)
	}
	n, c, plane := channels("BatchNorm", x.Value)
	count := n * plane
	y := New(x.Value.Shape...)
	mean := make([]float64, c)
	invstd := make([]float64, c)
	for ch := 0; ch < c; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			for _, v := range x.Value.Data[(i*c+ch)*plane:][:plane] {
				s += float64(v)
			}
		}
		m := s / float64(count)
		var sq float64
		for i := 0; i < n; i++ {
			for _, v := range x.Value.Data[(i*c+ch)*plane:][:plane] {
				d := float64(v) - m
				sq += d * d
			}
		}
		variance := sq / float64(count)
		mean[ch], invstd[ch] = m, 1/math.Sqrt(variance+float64(eps))
		unbiased := variance
		if count > 1 {
			unbiased = sq / float64(count-1)
		}
		runMean.Data[ch] = (1-momentum)*runMean.Data[ch] + momentum*float32(m)
		runVar.Data[ch] = (1-momentum)*runVar.Data[ch] + momentum*float32(unbiased)
		w, b := weight.Value.Data[ch], bias.Value.Data[ch]
		for i := 0; i < n; i++ {
			off := (i*c + ch) * plane
			for j, v := range x.Value.Data[off : off+plane] {
				y.Data[off+j] = float32((float64(v)-m)*invstd[ch])*w + b
			}
		}
	}
	return tp.result(y, func(g *Tensor) {
		for ch := 0; ch < c; ch++ {
			normBackward(x, weight, bias, g, mean[ch], invstd[ch], ch, n, c, plane)
		}
	}, x, weight, bias)
}

// normBackward is the gradient of (x - mean) * invstd * w + b over one
// channel whose statistics came from the same values; weight and bias may
// be nil (instance norm).
func normBackward(x, weight, bias *Var, g *Tensor, mean, invstd float64, ch, n, c, plane int) {
	count := float64(n * plane)
	var sumG, sumGX float64
	for i := 0; i < n; i++ {
		off := (i*c + ch) * plane
		for j, gv := range g.Data[off : off+plane] {
			sumG += float64(gv)
			sumGX += float64(gv) * (float64(x.Value.Data[off+j]) - mean) * invstd
		}
	}
	w := 1.0
	if weight != nil {
		w = float64(weight.Value.Data[ch])
		if weight.needsGrad {
			weight.grad().Data[ch] += float32(sumGX)
		}
	}
	if bias != nil && bias.needsGrad {
		bias.grad().Data[ch] += float32(sumG)
	}
	if !x.needsGrad {
		return
	}
	dx := x.grad().Data
	k := w * invstd / count
	for i := 0; i < n; i++ {
		off := (i*c + ch) * plane
		for j, gv := range g.Data[off : off+plane] {
			xhat := (float64(x.Value.Data[off+j]) - mean) * invstd
			dx[off+j] += float32(k * (count*float64(gv) - sumG - xhat*sumGX))
		}
	}
}

// InstanceNorm on a tape.
func (tp *Tape) InstanceNorm(x *Var, eps float32) *Var {
	y := InstanceNorm(x.Value, eps)
	return tp.result(y, func(g *Tensor) {
		n, c, plane := channels("InstanceNorm", x.Value)
		for p := 0; p < n*c; p++ {
			m, v := meanVar(x.Value.Data[p*plane : (p+1)*plane])
			// Each plane is a one-sample, one-channel batch norm.
			sub := &Var{Value: FromData(x.Value.Data[p*plane:(p+1)*plane], 1, 1, plane), needsGrad: true}
			sub.Grad = FromData(x.grad().Data[p*plane:(p+1)*plane], 1, 1, plane)
			normBackward(sub, nil, nil, FromData(g.Data[p*plane:(p+1)*plane], 1, 1, plane), m, 1/math.Sqrt(v+float64(eps)), 0, 1, 1, plane)
		}
	}, x)
}
