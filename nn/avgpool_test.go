package nn

import (
	"fmt"
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
		assertNear(t, fmt.Sprint("avgpool k=", k), AvgPool2d(x, k).Data, want, 0)
	}
}
