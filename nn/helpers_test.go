package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randTensor(rng *rand.Rand, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64())
	}
	return t
}

func maxDiff(a, b []float32) float64 {
	worst := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if d > worst || math.IsNaN(d) {
			worst = d
		}
	}
	return worst
}

func assertNear(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	if d := maxDiff(got, want); d > tol || math.IsNaN(d) {
		t.Errorf("%s: max |diff| %g > %g\ngot  %v\nwant %v", what, d, tol, head(got), head(want))
	}
}

func head(v []float32) []float32 {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

// unchanged fails if a kernel wrote into one of its inputs.
func unchanged(t *testing.T, what string, before, after *Tensor) {
	t.Helper()
	if maxDiff(before.Data, after.Data) != 0 {
		t.Errorf("%s: input was modified", what)
	}
}
