package nn

import (
	"math"
	"testing"
)

func TestLinspace(t *testing.T) {
	for _, n := range []int{1, 2, 5, 8, 64, 255} {
		for _, ab := range [][2]float32{{0, 1}, {1, 0}, {0.137, 0.911}, {-1, 1}} {
			a, b := ab[0], ab[1]
			sym, stepped := Linspace(a, b, n), LinspaceStepped(a, b, n)
			if len(sym) != n || len(stepped) != n || sym[0] != a || stepped[0] != a {
				t.Fatalf("(%v, %v, %d): %v %v", a, b, n, sym, stepped)
			}
			if n > 1 && sym[n-1] != b {
				t.Errorf("Linspace(%v, %v, %d) ends at %v, want exactly %v", a, b, n, sym[n-1], b)
			}
			step := (b - a) / float32(n-1)
			for i := range n {
				if n > 1 && stepped[i] != a+float32(i)*step {
					t.Errorf("LinspaceStepped(%v, %v, %d)[%d] = %v, want a + i*step", a, b, n, i, stepped[i])
				}
				if i < n/2 && sym[i] != stepped[i] {
					t.Errorf("(%v, %v, %d)[%d]: the first halves differ", a, b, n, i)
				}
				// Both round a few times on the scale of the ends.
				scale := max(math.Abs(float64(a)), math.Abs(float64(b)))
				if d := math.Abs(float64(sym[i] - stepped[i])); d > 8*0x1p-23*scale {
					t.Errorf("(%v, %v, %d)[%d]: %v and %v differ by more than rounding", a, b, n, i, sym[i], stepped[i])
				}
			}
		}
	}
	// PyTorch: torch.linspace(0, 1, 4) = [0, 1/3, 2/3, 1] with the second
	// half from the end, so 2/3 is computed as 1 - 1/3.
	if got := Linspace(0, 1, 4)[2]; got != 1-float32(1)/3 {
		t.Errorf("Linspace(0, 1, 4)[2] = %v, want 1 - 1/3 in float32", got)
	}
}
