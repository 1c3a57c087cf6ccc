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
	parallelFor(c, 2*n*plane, func(c0, c1 int) {
		for ch := c0; ch < c1; ch++ {
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
	})
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
			dx, dw, db := optGrad(x), optGrad(weight), optGrad(bias)
			parallelFor(c, 3*n*plane, func(c0, c1 int) {
				for ch := c0; ch < c1; ch++ {
					evalNormBackward(x.Value.Data, g.Data, dx, dw, db, runMean.Data[ch], runVar.Data[ch], weight.Value.Data[ch], eps, ch, n, c, plane)
				}
			})
		}, x, weight, bias)
	}
	n, c, plane := channels("BatchNorm", x.Value)
	y := New(x.Value.Shape...)
	mean := make([]float64, c)
	invstd := make([]float64, c)
	// Channels are independent: each is normalised, and its gradient
	// computed, as alone whatever goroutine takes it.
	parallelFor(c, 3*n*plane, func(c0, c1 int) {
		for ch := c0; ch < c1; ch++ {
			mean[ch], invstd[ch] = batchNormChannel(y.Data, x.Value.Data, weight.Value.Data[ch], bias.Value.Data[ch], runMean, runVar, momentum, eps, ch, n, c, plane)
		}
	})
	return tp.result(y, func(g *Tensor) {
		dx, dw, db := optGrad(x), optGrad(weight), optGrad(bias)
		parallelFor(c, 3*n*plane, func(c0, c1 int) {
			for ch := c0; ch < c1; ch++ {
				normBackward(x.Value.Data, g.Data, dx, dw, db, weight.Value.Data[ch], mean[ch], invstd[ch], ch, n, c, plane)
			}
		})
	}, x, weight, bias)
}

// batchNormChannel normalises channel ch of x into y with its batch
// statistics, which it returns, and moves the running ones toward them.
func batchNormChannel(y, x []float32, w, b float32, runMean, runVar *Tensor, momentum, eps float32, ch, n, c, plane int) (mean, invstd float64) {
	count := n * plane
	var s float64
	for i := 0; i < n; i++ {
		for _, v := range x[(i*c+ch)*plane:][:plane] {
			s += float64(v)
		}
	}
	m := s / float64(count)
	var sq float64
	for i := 0; i < n; i++ {
		for _, v := range x[(i*c+ch)*plane:][:plane] {
			d := float64(v) - m
			sq += d * d
		}
	}
	variance := sq / float64(count)
	invstd = 1 / math.Sqrt(variance+float64(eps))
	unbiased := variance
	if count > 1 {
		unbiased = sq / float64(count-1)
	}
	runMean.Data[ch] = (1-momentum)*runMean.Data[ch] + momentum*float32(m)
	runVar.Data[ch] = (1-momentum)*runVar.Data[ch] + momentum*float32(unbiased)
	for i := 0; i < n; i++ {
		off := (i*c + ch) * plane
		for j, v := range x[off : off+plane] {
			y[off+j] = float32((float64(v)-m)*invstd)*w + b
		}
	}
	return m, invstd
}

// optGrad is v's gradient data when v needs one (allocated before the
// goroutines that add to it share it out), else nil.
func optGrad(v *Var) []float32 {
	if v == nil || !v.needsGrad {
		return nil
	}
	return v.grad().Data
}

// evalNormBackward adds the gradients of an eval-mode batch norm's
// channel ch, x*scale + shift with the running statistics, to dx, dw and
// db (each nil when not wanted).
func evalNormBackward(x, g, dx, dw, db []float32, runMean, runVar, weight, eps float32, ch, n, c, plane int) {
	inv := float32(1 / math.Sqrt(float64(runVar+eps)))
	scale := weight * inv
	var sw, sb float64
	for i := 0; i < n; i++ {
		off := (i*c + ch) * plane
		gs := g[off : off+plane]
		xs := x[off : off+plane]
		for j, gv := range gs {
			sb += float64(gv)
			sw += float64(gv) * float64((xs[j]-runMean)*inv)
		}
		if dx != nil {
			d := dx[off : off+plane]
			for j, gv := range gs {
				d[j] += gv * scale
			}
		}
	}
	if dw != nil {
		dw[ch] += float32(sw)
	}
	if db != nil {
		db[ch] += float32(sb)
	}
}

// normBackward is the gradient of (x - mean) * invstd * w + b over one
// channel whose statistics came from the same values, added to dx, dw and
// db (each nil when not wanted; w is 1 without a weight).
func normBackward(x, g, dx, dw, db []float32, w float32, mean, invstd float64, ch, n, c, plane int) {
	count := float64(n * plane)
	var sumG, sumGX float64
	for i := 0; i < n; i++ {
		off := (i*c + ch) * plane
		for j, gv := range g[off : off+plane] {
			sumG += float64(gv)
			sumGX += float64(gv) * (float64(x[off+j]) - mean) * invstd
		}
	}
	if dw != nil {
		dw[ch] += float32(sumGX)
	}
	if db != nil {
		db[ch] += float32(sumG)
	}
	if dx == nil {
		return
	}
	k := float64(w) * invstd / count
	for i := 0; i < n; i++ {
		off := (i*c + ch) * plane
		for j, gv := range g[off : off+plane] {
			xhat := (float64(x[off+j]) - mean) * invstd
			dx[off+j] += float32(k * (count*float64(gv) - sumG - xhat*sumGX))
		}
	}
}

// InstanceNorm on a tape.
func (tp *Tape) InstanceNorm(x *Var, eps float32) *Var {
	y := InstanceNorm(x.Value, eps)
	return tp.result(y, func(g *Tensor) {
		n, c, plane := channels("InstanceNorm", x.Value)
		dx := x.grad().Data
		parallelFor(n*c, 3*plane, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				m, v := meanVar(x.Value.Data[p*plane : (p+1)*plane])
				// Each plane is a one-sample, one-channel batch norm.
				normBackward(x.Value.Data, g.Data, dx, nil, nil, 1, m, 1/math.Sqrt(v+float64(eps)), p, 1, n*c, plane)
			}
		})
	}, x)
}
