package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sg2im-go/sg2im/nn"
)

// TestFrechetDistanceClosedForm: for features Y = 2X + m the Gaussians'
// distance is |mean(X) - mean(Y)|^2 + Tr(C) - 2 Tr((C 4C)^(1/2)) + 4 Tr(C)
// = |mean(X) - mean(Y)|^2 + Tr(C), C the covariance of X, whatever its
// correlations; a set against itself is at distance 0.
func TestFrechetDistanceClosedForm(t *testing.T) {
	const O, F = 300, 6
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := nn.New(O, F), nn.New(O, F)
	m := []float32{1, -2, 0.5, 0, 3, -1}
	for r := 0; r < O; r++ {
		base := rng.NormFloat64()
		for c := 0; c < F; c++ {
			v := float32(base*float64(c+1)/3 + rng.NormFloat64()) // correlated columns
			x.Data[r*F+c] = v
			y.Data[r*F+c] = 2*v + m[c]
		}
	}
	a, b := newFeatureStats(F), newFeatureStats(F)
	a.add(nn.FromData(x.Data[:100*F], 100, F)) // in two batches
	a.add(nn.FromData(x.Data[100*F:], O-100, F))
	b.add(y)
	ma, ca := a.moments()
	mb, _ := b.moments()
	want := mat.Trace(ca)
	for i := range ma {
		want += (ma[i] - mb[i]) * (ma[i] - mb[i])
	}
	got, err := frechetDistance(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-6*want {
		t.Errorf("distance %.9g, want %.9g", got, want)
	}
	self, err := frechetDistance(a, a)
	if err != nil || self > 1e-6*want {
		t.Errorf("distance to itself %g (%v), want 0", self, err)
	}
}

// TestFIDFeaturesAverageCells: the shipped classifier's 64x4x4 last stage
// becomes 64 channels of 2x2 cell means.
func TestFIDFeaturesAverageCells(t *testing.T) {
	c, _ := shippedClassifier(t)
	if c.fidDim() != 256 {
		t.Fatalf("fidDim %d, want 256", c.fidDim())
	}
	f := nn.New(1, 64*16)
	for i := range f.Data {
		f.Data[i] = float32(i % 16) // row-major 4x4 positions 0..15 in every channel
	}
	out := c.fidFeatures(f)
	// Cell (0, 0) holds positions 0, 1, 4, 5; cell (1, 1) 10, 11, 14, 15.
	if got := out.Data[:4]; got[0] != 2.5 || got[1] != 4.5 || got[2] != 10.5 || got[3] != 12.5 {
		t.Errorf("channel 0 cells %v, want [2.5 4.5 10.5 12.5]", got)
	}
	if out.Data[255] != 12.5 {
		t.Errorf("last channel's last cell %g, want 12.5", out.Data[255])
	}
}
