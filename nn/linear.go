package nn

import "fmt"

// Linear returns x W^T + b for x (N, In), w (Out, In) and b (Out) or nil.
func Linear(x, w, b *Tensor) *Tensor {
	mustRank("Linear input", x, 2)
	mustRank("Linear weight", w, 2)
	n, in, out := x.Shape[0], x.Shape[1], w.Shape[0]
	if w.Shape[1] != in || (b != nil && b.Numel() != out) {
		panic(fmt.Sprintf("nn: Linear: input %v, weight %v, bias %v", x.Shape, w.Shape, b))
	}
	y := New(n, out)
	LinearForward(y.Data, x.Data, w.Data, biasData(b), n, in, out)
	return y
}

// LinearForward writes x W^T + b into dst (n, out); bias may be nil.
func LinearForward(dst, x, w, bias []float32, n, in, out int) {
	beta := float32(0)
	if bias != nil {
		for i := 0; i < n; i++ {
			copy(dst[i*out:(i+1)*out], bias)
		}
		beta = 1
	}
	Gemm(false, true, n, out, in, 1, x, in, w, in, beta, dst, out)
}

func biasData(b *Tensor) []float32 {
	if b == nil {
		return nil
	}
	return b.Data
}

// Linear on a tape: y = x W^T + b, b may be nil.
func (tp *Tape) Linear(x, w, b *Var) *Var {
	var bt *Tensor
	if b != nil {
		bt = b.Value
	}
	y := Linear(x.Value, w.Value, bt)
	n, in, out := x.Value.Shape[0], x.Value.Shape[1], w.Value.Shape[0]
	return tp.result(y, func(g *Tensor) {
		if x.needsGrad {
			Gemm(false, false, n, in, out, 1, g.Data, out, w.Value.Data, in, 1, x.grad().Data, in)
		}
		if w.needsGrad {
			Gemm(true, false, out, in, n, 1, g.Data, out, x.Value.Data, in, 1, w.grad().Data, in)
		}
		if b != nil && b.needsGrad {
			db := b.grad().Data
			for i := 0; i < n; i++ {
				addTo(db, g.Data[i*out:(i+1)*out])
			}
		}
	}, x, w, b)
}
