package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestGridSampleIdentity(t *testing.T) {
	// With align_corners the grid linspace(-1, 1) hits every pixel centre.
	rng := rand.New(rand.NewPCG(9, 10))
	x := randTensor(rng, 2, 3, 4, 5)
	grid := New(2, 4, 5, 2)
	for n := 0; n < 2; n++ {
		for i := 0; i < 4; i++ {
			for j := 0; j < 5; j++ {
				g := grid.Data[((n*4+i)*5+j)*2:]
				g[0] = -1 + 2*float32(j)/4
				g[1] = -1 + 2*float32(i)/3
			}
		}
	}
	assertNear(t, "identity", GridSample(x, grid).Data, x.Data, 1e-6)
}

// TestGridSampleParallelSameBits: a batch large enough to be split
// among goroutines samples every image as one goroutine does, bit for bit.
func TestGridSampleParallelSameBits(t *testing.T) {
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(11, 12))
	x := randTensor(rng, 5, 2, 16, 16)
	grid := randTensor(rng, 5, 64, 64, 2) // in [-1, 1) and past it: zeros at the edges too
	for i := range grid.Data {
		grid.Data[i] *= 1.3
	}
	want := New(5, 2, 64, 64)
	gridSampleImages(want, x, grid, 0, 5)
	for _, threads := range []int{2, 3} {
		SetThreads(threads)
		if got := GridSample(x, grid); maxDiff(got.Data, want.Data) != 0 {
			t.Errorf("%d goroutines: max |diff| %g from one", threads, maxDiff(got.Data, want.Data))
		}
	}
}

func TestGridSampleBilinearAndZeros(t *testing.T) {
	// 2x2 source [[1, 2], [3, 4]].
	x := FromData([]float32{1, 2, 3, 4}, 1, 1, 2, 2)
	pts := []struct {
		gx, gy float32
		want   float32
	}{
		{0, 0, 2.5},   // centre: mean of all four
		{-1, -1, 1},   // top-left pixel centre
		{1, 1, 4},     // bottom-right
		{-1, 0, 2},    // halfway down the left column
		{-2, -1, 0.5}, // half a pixel beyond the left edge: half of 1, rest zeros
		{3, 0, 0},     // far outside
		{float32(math.NaN()), 0, 0},
		{float32(math.Inf(1)), 0, 0},
		{1e30, -1e30, 0},
	}
	grid := New(1, 1, len(pts), 2)
	for i, p := range pts {
		grid.Data[2*i], grid.Data[2*i+1] = p.gx, p.gy
	}
	got := GridSample(x, grid)
	for i, p := range pts {
		if math.Abs(float64(got.Data[i]-p.want)) > 1e-6 {
			t.Errorf("sample at (%g, %g) = %g, want %g", p.gx, p.gy, got.Data[i], p.want)
		}
	}
}

func TestUpsampleNearestAndAvgPool(t *testing.T) {
	x := FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 2, 1, 3)
	up := UpsampleNearest(x, 2)
	want := []float32{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6}
	assertNear(t, "upsample", up.Data, want, 0)
	if !SameShape(up.Shape, []int{1, 2, 2, 6}) {
		t.Fatalf("upsample shape %v", up.Shape)
	}
	// Pooling an upsampled image by the same factor restores it.
	assertNear(t, "avgpool(upsample)", AvgPool2d(up, 2).Data, x.Data, 0)
	p := AvgPool2d(FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 1, 1, 4, 4), 2)
	assertNear(t, "avgpool", p.Data, []float32{3.5, 5.5, 11.5, 13.5}, 0)
}

func TestBatchNormEval(t *testing.T) {
	x := FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2)
	w := FromData([]float32{2, 1}, 2)
	b := FromData([]float32{0, 1}, 2)
	mean := FromData([]float32{1, 0}, 2)
	vari := FromData([]float32{4 - 1e-5, 1 - 1e-5}, 2)
	got := BatchNormEval(x, w, b, mean, vari, 1e-5)
	// channel 0: (x-1)/2*2 = x-1; channel 1: x/1*1+1 = x+1
	assertNear(t, "batchnorm", got.Data, []float32{0, 1, 4, 5, 4, 5, 8, 9}, 1e-6)
	// Rank-2 input is BatchNorm1d.
	got = BatchNormEval(FromData([]float32{3, 3}, 1, 2), w, b, mean, vari, 1e-5)
	assertNear(t, "batchnorm1d", got.Data, []float32{2, 4}, 1e-6)
}

func TestInstanceNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := randTensor(rng, 2, 3, 5, 4)
	y := InstanceNorm(x, 1e-5)
	for p := 0; p < 6; p++ {
		m, v := meanVar(y.Data[p*20 : (p+1)*20])
		if math.Abs(m) > 1e-6 || math.Abs(v-1) > 1e-3 {
			t.Errorf("plane %d: mean %g variance %g after instance norm", p, m, v)
		}
	}
	// A constant plane stays finite: (x - mean) is 0, eps keeps 1/sqrt finite.
	c := InstanceNorm(FromData([]float32{5, 5, 5, 5}, 1, 1, 2, 2), 1e-5)
	assertNear(t, "constant plane", c.Data, []float32{0, 0, 0, 0}, 0)
}

func TestActivations(t *testing.T) {
	x := FromData([]float32{-2, -0.5, 0, 3}, 4)
	assertNear(t, "relu", ReLU(x).Data, []float32{0, 0, 0, 3}, 0)
	assertNear(t, "leaky", LeakyReLU(x, 0.2).Data, []float32{-0.4, -0.1, 0, 3}, 1e-7)
	s := Sigmoid(FromData([]float32{0, 100, -100}, 3))
	assertNear(t, "sigmoid", s.Data, []float32{0.5, 1, 0}, 1e-7)
}

func TestIndexOps(t *testing.T) {
	x := FromData([]float32{0, 1, 10, 11, 20, 21}, 3, 2)
	assertNear(t, "gather", Gather(x, []int{2, 0, 2}).Data, []float32{20, 21, 0, 1, 20, 21}, 0)
	dst := New(3, 2)
	IndexAdd(dst, []int{1, 1, 0}, FromData([]float32{1, 2, 3, 4, 5, 6}, 3, 2))
	assertNear(t, "index add", dst.Data, []float32{5, 6, 4, 6, 0, 0}, 0)

	a := FromData([]float32{1, 2, 3, 4}, 1, 2, 2)
	b := FromData([]float32{5, 6}, 1, 1, 2)
	assertNear(t, "concat dim 1", Concat(1, a, b).Data, []float32{1, 2, 3, 4, 5, 6}, 0)
	c := FromData([]float32{1, 2, 3, 4}, 2, 2)
	d := FromData([]float32{5, 6}, 2, 1)
	assertNear(t, "concat cols", Concat(1, c, d).Data, []float32{1, 2, 5, 3, 4, 6}, 0)
	assertNear(t, "slice cols", SliceCols(Concat(1, c, d), 1, 3).Data, []float32{2, 5, 4, 6}, 0)
}

func TestPaint(t *testing.T) {
	dst := New(2, 2, 1, 2)
	vecs := FromData([]float32{1, 2, 3, 4, 5, 6}, 3, 2)
	planes := FromData([]float32{1, 0, 0.5, 0.5, 1, 1}, 3, 1, 1, 2)
	Paint(dst, vecs, planes, []int{0, 0, 1})
	// image 0: obj0 (1,2)*[1,0] + obj1 (3,4)*[.5,.5]; image 1: obj2 (5,6)*[1,1]
	want := []float32{1 + 1.5, 1.5, 2 + 2, 2, 5, 5, 6, 6}
	assertNear(t, "paint", dst.Data, want, 1e-6)
}

func TestAllFinite(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, tc := range []struct {
		data []float32
		want bool
	}{
		{nil, true},
		{[]float32{0, -1, 3.4e38, -3.4e38, 1e-45}, true},
		{[]float32{1, inf, 2}, false},
		{[]float32{-inf}, false},
		{[]float32{1, 2, nan}, false},
	} {
		if got := AllFinite(tc.data); got != tc.want {
			t.Errorf("AllFinite(%v) = %v, want %v", tc.data, got, tc.want)
		}
	}
}

// TestLeakyReLUExact checks LeakyReLU and its gradient bit for bit against
// the branch definition, signed zeros and infinities included.
func TestLeakyReLUExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := randTensor(rng, 4, 257)
	inf := float32(math.Inf(1))
	copy(x.Data, []float32{0, float32(math.Copysign(0, -1)), inf, -inf, 1e-45, -1e-45, 3e38, -3e38})
	const slope = 0.2
	xv := Param(x)
	tp := NewTape()
	y := tp.LeakyReLU(xv, slope)
	g := randTensor(rng, x.Shape...)
	y.Grad = g
	tp.Backward(tp.WeightedSum([]*Var{y}, []float32{0}))
	for i, v := range x.Data {
		wantY, wantG := v*slope, g.Data[i]*slope
		if v > 0 {
			wantY, wantG = v, g.Data[i]
		}
		if math.Float32bits(y.Value.Data[i]) != math.Float32bits(wantY) || math.Float32bits(xv.Grad.Data[i]) != math.Float32bits(wantG) {
			t.Fatalf("x=%v: y %v grad %v, want %v and %v", v, y.Value.Data[i], xv.Grad.Data[i], wantY, wantG)
		}
	}
}

// LeakyReLU and its gradient over activations of random signs (the
// quarter-width CRN's last module: batch 8, 16 channels, 64 x 64).
func BenchmarkLeakyReLUForwardBackward_8x16x64x64(b *testing.B) {
	rng := rand.New(rand.NewPCG(13, 14))
	x := Param(randTensor(rng, 8, 16, 64, 64))
	g := randTensor(rng, 8, 16, 64, 64)
	for b.Loop() {
		x.Grad = nil
		tp := NewTape()
		y := tp.LeakyReLU(x, 0.2)
		y.Grad = g
		tp.Backward(tp.WeightedSum([]*Var{y}, []float32{0}))
	}
}

// TestConcatBackwardCopiesOrAdds checks Concat's gradient into a fresh
// gradient, into one already holding values, and into an input given
// twice (copied, then added).
func TestConcatBackwardCopiesOrAdds(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	a, b := Param(randTensor(rng, 2, 3, 4)), Param(randTensor(rng, 2, 5, 4))
	before := randTensor(rng, 2, 5, 4)
	b.Grad = before.Clone()
	tp := NewTape()
	y := tp.Concat(1, a, b, a)
	g := randTensor(rng, y.Value.Shape...)
	y.Grad = g
	tp.Backward(tp.WeightedSum([]*Var{y}, []float32{0}))
	at := func(n, c, j int) float32 { return g.Data[(n*11+c)*4+j] }
	for n := 0; n < 2; n++ {
		for j := 0; j < 4; j++ {
			for c := 0; c < 3; c++ {
				if got, want := a.Grad.Data[(n*3+c)*4+j], at(n, c, j)+at(n, 8+c, j); got != want {
					t.Fatalf("a's gradient at %d,%d,%d: %v, want %v", n, c, j, got, want)
				}
			}
			for c := 0; c < 5; c++ {
				i := (n*5+c)*4 + j
				if got, want := b.Grad.Data[i], before.Data[i]+at(n, 3+c, j); got != want {
					t.Fatalf("b's gradient at %d,%d,%d: %v, want %v", n, c, j, got, want)
				}
			}
		}
	}
}
