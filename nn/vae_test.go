package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestVAEGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	gradCheck(t, "Add", func(tp *Tape, in []*Var) *Var { return tp.Add(in[0], in[1]) }, params(rng, []int{3, 4}, []int{3, 4})...)
	eps := randTensor(rng, 3, 4)
	gradCheck(t, "Reparameterize", func(tp *Tape, in []*Var) *Var { return tp.Reparameterize(in[0], in[1], eps) },
		params(rng, []int{3, 4}, []int{3, 4})...)
	gradCheck(t, "KLStdNormal", func(tp *Tape, in []*Var) *Var { return tp.KLStdNormal(in[0], in[1]) },
		params(rng, []int{3, 4}, []int{3, 4})...)
}

// TestKLStdNormalValues: zero for the prior itself; for one row of
// N(1, e^2) against N(0, 1), -(1 + 2 - 1 - e^2) / 2 = (e^2 - 2) / 2.
func TestKLStdNormalValues(t *testing.T) {
	zero := Const(New(2, 3))
	if kl := (*Tape)(nil).KLStdNormal(zero, zero).Value.Data[0]; kl != 0 {
		t.Errorf("KL of the prior %g, want 0", kl)
	}
	got := (*Tape)(nil).KLStdNormal(Const(FromData([]float32{1}, 1, 1)), Const(FromData([]float32{2}, 1, 1))).Value.Data[0]
	if want := (math.Exp(2) - 2) / 2; math.Abs(float64(got)-want) > 1e-5 {
		t.Errorf("KL %g, want %g", got, want)
	}
	// Reparameterize with logvar 2 scales eps by e.
	y := (*Tape)(nil).Reparameterize(Const(FromData([]float32{1}, 1)), Const(FromData([]float32{2}, 1)), FromData([]float32{0.5}, 1))
	if want := 1 + 0.5*math.E; math.Abs(float64(y.Value.Data[0])-want) > 1e-5 {
		t.Errorf("sample %g, want %g", y.Value.Data[0], want)
	}
}
