package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAvgPool2dOrder checks AvgPool2d bit for bit against the window-by-
// window definition (rows top to bottom, each left to right, in float32,
// as PyTorch sums), with enough planes to split among goroutines.
func TestAvgPool2dOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, k := range []int{1, 2, 3, 4, 8} {
		x := randTensor(rng, 2, 120, 24, 48) // large enough to split
		for i := 0; i < 3*48; i++ {          // windows of negative zeros, whose sum is +0
			x.Data[i] = float32(math.Copysign(0, -1))
		}
		n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		want := make([]float32, n*c*(h/k)*(w/k))
		for p := 0; p < n*c; p++ {
			for oy := 0; oy < h/k; oy++ {
				for ox := 0; ox < w/k; ox++ {
					var sum float32
					for ky := 0; ky < k; ky++ {
						for kx := 0; kx < k; kx++ {
							sum += x.Data[(p*h+oy*k+ky)*w+ox*k+kx]
						}
					}
					want[(p*(h/k)+oy)*(w/k)+ox] = sum / float32(k*k)
				}
			}
		}
		got := AvgPool2d(x, k).Data
		assertNear(t, fmt.Sprint("avgpool k=", k), got, want, 0)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("avgpool k=%d: value %d is %g, want %g bit for bit", k, i, got[i], want[i])
			}
		}
	}
}

// TestAvgPool2dBackwardExact checks the gradient bit for bit against its
// definition, dx[iy, ix] += g[iy/k, ix/k] / k^2, added to a gradient
// already there.
func TestAvgPool2dBackwardExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, k := range []int{1, 2, 3, 4} {
		x := Param(randTensor(rng, 2, 3, 12, 24))
		before := randTensor(rng, x.Value.Shape...)
		x.Grad = before.Clone()
		tp := NewTape()
		y := tp.AvgPool2d(x, k)
		g := randTensor(rng, y.Value.Shape...)
		y.Grad = g
		tp.Backward(tp.WeightedSum([]*Var{y}, []float32{0})) // runs y's backward with g
		h, w, oh, ow := 12, 24, 12/k, 24/k
		want := make([]float32, len(before.Data))
		for p := 0; p < 6; p++ {
			for iy := 0; iy < h; iy++ {
				for ix := 0; ix < w; ix++ {
					i := (p*h+iy)*w + ix
					want[i] = before.Data[i] + g.Data[(p*oh+iy/k)*ow+ix/k]/float32(k*k)
				}
			}
		}
		assertNear(t, fmt.Sprint("avgpool backward k=", k), x.Grad.Data, want, 0)
	}
}

// The backward of the object discriminator's pooling at a quarter of the
// widths (56 crops of 64 channels, 8 x 8, pooled 2 x 2).
func BenchmarkAvgPool2dBackward_56x64x8x8(b *testing.B) {
	rng := rand.New(rand.NewPCG(45, 46))
	x := Param(randTensor(rng, 56, 64, 8, 8))
	g := randTensor(rng, 56, 64, 4, 4)
	for b.Loop() {
		tp := NewTape()
		y := tp.AvgPool2d(x, 2)
		y.Grad = g
		tp.Backward(tp.WeightedSum([]*Var{y}, []float32{0}))
	}
}
