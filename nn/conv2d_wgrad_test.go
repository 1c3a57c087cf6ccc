package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// convWeightGradWhole is convWeightGrad with the whole im2col matrix in
// one product: the reference its row blocks must match bit for bit.
func convWeightGradWhole(dw, x, g []float32, s ConvShape) {
	outSize := s.OutH * s.OutW
	k := s.C * s.KH * s.KW
	inSize := s.C * s.H * s.W
	per := max(1, min(s.N, maxGradCols/outSize))
	for n0 := 0; n0 < s.N; n0 += per {
		nb := min(per, s.N-n0)
		cols := nb * outSize
		col, gc, dwT := make([]float32, k*cols), make([]float32, s.F*cols), make([]float32, k*s.F)
		for i := 0; i < nb; i++ {
			im2colRows(col, cols, i*outSize, x[(n0+i)*inSize:][:inSize], s, 0, 0, k)
			gi := g[(n0+i)*s.F*outSize:]
			for f := 0; f < s.F; f++ {
				copy(gc[f*cols+i*outSize:][:outSize], gi[f*outSize:][:outSize])
			}
		}
		Gemm(false, true, k, s.F, cols, 1, col, cols, gc, cols, 0, dwT, s.F)
		for f := 0; f < s.F; f++ {
			for r := 0; r < k; r++ {
				dw[f*k+r] += dwT[r*s.F+f]
			}
		}
	}
}

// The weight gradient taken in blocks of im2col rows (to bound its
// scratch) is bit-identical to the one product over all rows, for shapes
// with one block, several, and a last block taking the rest.
func TestConvWeightGradRowBlocksExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range []ConvShape{
		{N: 8, C: 256, H: 32, W: 32, F: 16, KH: 3, KW: 3, Stride: 1, Pad: 1, OutH: 32, OutW: 32},
		{N: 3, C: 300, H: 64, W: 64, F: 10, KH: 3, KW: 3, Stride: 1, Pad: 1, OutH: 64, OutW: 64},
		{N: 8, C: 64, H: 16, W: 16, F: 32, KH: 4, KW: 4, Stride: 2, Pad: 1, OutH: 8, OutW: 8},
		{N: 2, C: 1, H: 8, W: 8, F: 4, KH: 3, KW: 3, Stride: 1, Pad: 1, OutH: 8, OutW: 8},
	} {
		x := make([]float32, s.N*s.C*s.H*s.W)
		g := make([]float32, s.N*s.F*s.OutH*s.OutW)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		for i := range g {
			g[i] = rng.Float32()*2 - 1
		}
		k := s.C * s.KH * s.KW
		got, want := make([]float32, s.F*k), make([]float32, s.F*k)
		for i := range got {
			got[i] = float32(i%7) * 0.125 // accumulates onto an existing gradient
			want[i] = got[i]
		}
		convWeightGrad(got, x, g, s)
		convWeightGradWhole(want, x, g, s)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: dw[%d] = %v, want %v", fmt.Sprint(s), i, got[i], want[i])
			}
		}
	}
}
