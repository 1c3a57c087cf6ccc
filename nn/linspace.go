package nn

// Linspace is torch.linspace(a, b, n) in float32 as PyTorch's CPU kernel
// computes it: the first half of the points stepped forward from a, the
// second half backward from b, so both ends are exact. The generator and
// the discriminators follow it.
func Linspace(a, b float32, n int) []float32 { return linspace(a, b, n, n/2) }

// LinspaceStepped is the same n points from a to b, each computed as
// a + i*step. The points differ from Linspace's in the last bit at about
// one in fourteen; the data pipeline's relationships (mask centroids) are
// defined with this form, and kept to it.
func LinspaceStepped(a, b float32, n int) []float32 { return linspace(a, b, n, n) }

// linspace steps points before half forward from a, the rest back from b.
func linspace(a, b float32, n, half int) []float32 {
	v := make([]float32, n)
	if n == 1 {
		v[0] = a
		return v
	}
	step := (b - a) / float32(n-1)
	for i := range v {
		if i < half {
			v[i] = a + step*float32(i)
		} else {
			v[i] = b - step*float32(n-1-i)
		}
	}
	return v
}
