package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gradCheck compares the tape's gradients of sum(f(inputs) * r), r random,
// with float64 central differences of the same function, for every input
// that needs a gradient. Ops are float32, so the step is large and the
// tolerance loose; a wrong backward is off by far more.
func gradCheck(t *testing.T, name string, f func(tp *Tape, in []*Var) *Var, inputs ...*Var) {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, uint64(len(name))))
	tp := NewTape()
	out := f(tp, inputs)
	r := randTensor(rng, out.Value.Shape...)
	loss := tp.weightedTotal(out, r)
	tp.Backward(loss)
	eval := func() float64 {
		o := f(nil, inputs)
		var s float64
		for i, v := range o.Value.Data {
			s += float64(v) * float64(r.Data[i])
		}
		return s
	}
	for k, in := range inputs {
		if !in.needsGrad {
			continue
		}
		if in.Grad == nil {
			t.Errorf("%s: input %d got no gradient", name, k)
			continue
		}
		worst := 0.0
		for i := range in.Value.Data {
			old := in.Value.Data[i]
			const h = 1e-2
			in.Value.Data[i] = old + h
			up := eval()
			in.Value.Data[i] = old - h
			down := eval()
			in.Value.Data[i] = old
			num := (up - down) / (2 * h)
			got := float64(in.Grad.Data[i])
			err := math.Abs(got-num) / math.Max(1, math.Abs(num))
			worst = math.Max(worst, err)
			if err > 2e-2 {
				t.Errorf("%s: input %d [%d]: backward %g, numerical %g", name, k, i, got, num)
				break
			}
		}
		t.Logf("%s: input %d worst relative error %.2g", name, k, worst)
	}
}

// weightedTotal is sum(out * r) on the tape, a scalar to differentiate.
func (tp *Tape) weightedTotal(out *Var, r *Tensor) *Var {
	var s float32
	for i, v := range out.Value.Data {
		s += v * r.Data[i]
	}
	return tp.result(FromData([]float32{s}, 1), func(g *Tensor) {
		dx := out.grad().Data
		for i := range dx {
			dx[i] += g.Data[0] * r.Data[i]
		}
	}, out)
}

func params(rng *rand.Rand, shapes ...[]int) []*Var {
	out := make([]*Var, len(shapes))
	for i, s := range shapes {
		out[i] = Param(randTensor(rng, s...))
	}
	return out
}

func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	gradCheck(t, "Linear", func(tp *Tape, in []*Var) *Var { return tp.Linear(in[0], in[1], in[2]) },
		params(rng, []int{3, 5}, []int{4, 5}, []int{4})...)
	for _, c := range []struct{ n, c, h, w, f, k, s, p int }{{2, 3, 5, 4, 2, 3, 1, 1}, {1, 2, 7, 6, 3, 4, 2, 0}, {2, 3, 3, 3, 2, 1, 1, 0}} {
		gradCheck(t, fmt.Sprint("Conv2d", c), func(tp *Tape, in []*Var) *Var { return tp.Conv2d(in[0], in[1], in[2], c.s, c.p) },
			params(rng, []int{c.n, c.c, c.h, c.w}, []int{c.f, c.c, c.k, c.k}, []int{c.f})...)
	}
	// col2im's edges: padding with stride 2 and 3, padding past the
	// kernel's reach (their own generator, so that the draws below stay).
	rngEdges := rand.New(rand.NewPCG(3, 3))
	for _, c := range []struct{ n, c, h, w, f, k, s, p int }{{1, 2, 6, 7, 2, 3, 2, 1}, {1, 1, 8, 7, 2, 4, 3, 2}, {1, 2, 4, 5, 2, 3, 1, 3}} {
		gradCheck(t, fmt.Sprint("Conv2d", c), func(tp *Tape, in []*Var) *Var { return tp.Conv2d(in[0], in[1], in[2], c.s, c.p) },
			params(rngEdges, []int{c.n, c.c, c.h, c.w}, []int{c.f, c.c, c.k, c.k}, []int{c.f})...)
	}
	gradCheck(t, "ReLU", func(tp *Tape, in []*Var) *Var { return tp.ReLU(in[0]) }, params(rng, []int{3, 7})...)
	gradCheck(t, "LeakyReLU", func(tp *Tape, in []*Var) *Var { return tp.LeakyReLU(in[0], 0.2) }, params(rng, []int{3, 7})...)
	gradCheck(t, "Sigmoid", func(tp *Tape, in []*Var) *Var { return tp.Sigmoid(in[0]) }, params(rng, []int{5, 3})...)
	gradCheck(t, "UpsampleNearest", func(tp *Tape, in []*Var) *Var { return tp.UpsampleNearest(in[0], 2) }, params(rng, []int{2, 3, 3, 5})...)
	gradCheck(t, "AvgPool2d", func(tp *Tape, in []*Var) *Var { return tp.AvgPool2d(in[0], 2) }, params(rng, []int{2, 3, 4, 6})...)
	gradCheck(t, "GlobalAvgPool", func(tp *Tape, in []*Var) *Var { return tp.GlobalAvgPool(in[0]) }, params(rng, []int{2, 3, 3, 5})...)

	bn := func(train bool) func(tp *Tape, in []*Var) *Var {
		return func(tp *Tape, in []*Var) *Var {
			rm, rv := FromData([]float32{0.1, -0.2, 0.3}, 3), FromData([]float32{0.5, 1.5, 2}, 3)
			return tp.BatchNorm(in[0], in[1], in[2], rm, rv, train, 0.1, 1e-5)
		}
	}
	gradCheck(t, "BatchNorm2d train", bn(true), params(rng, []int{2, 3, 3, 5}, []int{3}, []int{3})...)
	gradCheck(t, "BatchNorm1d train", bn(true), params(rng, []int{5, 3}, []int{3}, []int{3})...)
	gradCheck(t, "BatchNorm2d eval", bn(false), params(rng, []int{2, 3, 3, 5}, []int{3}, []int{3})...)
	gradCheck(t, "InstanceNorm", func(tp *Tape, in []*Var) *Var { return tp.InstanceNorm(in[0], 1e-5) }, params(rng, []int{2, 3, 3, 5})...)

	grid := randTensor(rng, 2, 4, 5, 2)
	for i := range grid.Data {
		grid.Data[i] *= 0.7 // inside, and a few outside, the source
	}
	grid.Data[0] = 1.3
	gradCheck(t, "GridSample", func(tp *Tape, in []*Var) *Var { return tp.GridSample(in[0], grid) }, params(rng, []int{2, 3, 4, 3})...)

	idx := []int{2, 0, 2, 1}
	gradCheck(t, "Gather", func(tp *Tape, in []*Var) *Var { return tp.Gather(in[0], idx) }, params(rng, []int{3, 4})...)
	gradCheck(t, "IndexAddRows", func(tp *Tape, in []*Var) *Var { return tp.IndexAddRows(3, idx, in[0]) }, params(rng, []int{4, 5})...)
	gradCheck(t, "ScaleRows", func(tp *Tape, in []*Var) *Var { return tp.ScaleRows(in[0], []float32{1, 2, 3}) }, params(rng, []int{3, 4})...)
	gradCheck(t, "Concat", func(tp *Tape, in []*Var) *Var { return tp.Concat(1, in[0], in[1]) }, params(rng, []int{2, 3, 2}, []int{2, 1, 2})...)
	gradCheck(t, "SliceCols", func(tp *Tape, in []*Var) *Var { return tp.SliceCols(in[0], 1, 4) }, params(rng, []int{3, 5})...)
	gradCheck(t, "Reshape", func(tp *Tape, in []*Var) *Var { return tp.Reshape(in[0], 6, 2) }, params(rng, []int{3, 4})...)
	gradCheck(t, "Paint", func(tp *Tape, in []*Var) *Var { return tp.Paint(2, in[0], in[1], []int{0, 1, 1}) },
		params(rng, []int{3, 4}, []int{3, 1, 2, 3})...)

	target := Const(randTensor(rng, 3, 4))
	gradCheck(t, "L1Loss", func(tp *Tape, in []*Var) *Var { return tp.L1Loss(in[0], target) }, params(rng, []int{3, 4})...)
	gradCheck(t, "MSELoss", func(tp *Tape, in []*Var) *Var { return tp.MSELoss(in[0], target) }, params(rng, []int{3, 4})...)
	probs := Param(New(3, 4))
	for i := range probs.Value.Data {
		probs.Value.Data[i] = 0.1 + 0.8*rng.Float32()
	}
	bin := New(3, 4)
	for i := range bin.Data {
		bin.Data[i] = float32(i % 2)
	}
	gradCheck(t, "BCELoss", func(tp *Tape, in []*Var) *Var { return tp.BCELoss(in[0], bin) }, probs)
	gradCheck(t, "BCEWithLogits", func(tp *Tape, in []*Var) *Var { return tp.BCEWithLogits(in[0], 1) }, params(rng, []int{4, 3})...)
	gradCheck(t, "CrossEntropy", func(tp *Tape, in []*Var) *Var { return tp.CrossEntropy(in[0], []int{0, 3, 1}) }, params(rng, []int{3, 4})...)
	gradCheck(t, "Mean", func(tp *Tape, in []*Var) *Var { return tp.Mean(in[0]) }, params(rng, []int{3, 4})...)
	gradCheck(t, "WeightedSum", func(tp *Tape, in []*Var) *Var {
		return tp.WeightedSum([]*Var{tp.Mean(in[0]), tp.Mean(in[1])}, []float32{0.5, -2})
	}, params(rng, []int{2, 2}, []int{3})...)
}

func TestBatchNormTrainUpdatesRunningStats(t *testing.T) {
	x := Param(FromData([]float32{1, 2, 3, 5}, 4, 1))
	rm, rv := FromData([]float32{0}, 1), FromData([]float32{1}, 1)
	NewTape().BatchNorm(x, Param(FromData([]float32{1}, 1)), Param(FromData([]float32{0}, 1)), rm, rv, true, 0.1, 1e-5)
	// mean 2.75; unbiased variance of {1,2,3,5} = 8.75/3.
	if math.Abs(float64(rm.Data[0])-0.275) > 1e-6 || math.Abs(float64(rv.Data[0])-(0.9+0.1*8.75/3)) > 1e-6 {
		t.Errorf("running mean %g, var %g", rm.Data[0], rv.Data[0])
	}
}

func TestAdamMatchesPyTorchUpdate(t *testing.T) {
	// Two steps of torch.optim.Adam(lr=0.1) on p=[1, -2] with grads [0.5, 0.25]
	// then [-1, 0.5]: p after step 1 = p - 0.1*sign(g); step 2 by hand below.
	p := Param(FromData([]float32{1, -2}, 2))
	a := NewAdam([]*Var{p}, 0.1)
	p.Grad = FromData([]float32{0.5, 0.25}, 2)
	a.Step()
	assertNear(t, "step 1", p.Value.Data, []float32{0.9, -2.1}, 1e-6)
	p.Grad = FromData([]float32{-1, 0.5}, 2)
	a.Step()
	want := make([]float32, 2)
	for i, g := range [][2]float64{{0.5, -1}, {0.25, 0.5}} {
		m := 0.9*(0.1*g[0]) + 0.1*g[1]
		v := 0.999*(0.001*g[0]*g[0]) + 0.001*g[1]*g[1]
		step := 0.1 / (1 - 0.81) * m / (math.Sqrt(v)/math.Sqrt(1-0.999*0.999) + 1e-8)
		want[i] = []float32{0.9, -2.1}[i] - float32(step)
	}
	// float32 state against a float64 reference: a few ulps of 2.
	assertNear(t, "step 2", p.Value.Data, want, 3e-6)
}
