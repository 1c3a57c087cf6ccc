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
