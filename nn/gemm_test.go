package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the definition of Gemm in float64; it also returns, for each
// element of dst, the sum of the magnitudes of the terms, which bounds the
// float32 rounding error.
func naiveGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, scale []float64) {
	want, scale = make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum, mag float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				sum += float64(av) * float64(bv)
				mag += math.Abs(float64(av) * float64(bv))
			}
			v := float64(alpha) * sum
			mag = math.Abs(float64(alpha)) * mag
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
				mag += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j], scale[i*n+j] = v, mag
		}
	}
	return want, scale
}

// Blockings under test: the tuned one and tiny ones that reach every edge
// of both loop nests (several kc, mc and nc steps, odd kc) with small
// matrices.
var testBlockings = []struct {
	name string
	bl   gemmBlocking
}{
	{"tuned", blocking},
	{"tiny-wholeB", gemmBlocking{kc: 5, nc: 32, mc: 12, blockA: 120, wholeB: 1 << 30}},
	{"tiny", gemmBlocking{kc: 7, nc: 16, mc: 12, blockA: 96, wholeB: 0}}, // k blocks of A, too
	{"tiny-odd", gemmBlocking{kc: 3, nc: 20, mc: 10, blockA: 60, wholeB: 0}},
}

// forEachPath runs f under every kernel of this build and CPU, every test
// blocking and one to three goroutines.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	savedK, savedB := activeKernel, blocking
	defer func() { activeKernel, blocking = savedK, savedB; SetThreads(0) }()
	for _, k := range gemmKernels {
		for _, b := range testBlockings {
			for _, threads := range []int{1, 3} {
				activeKernel, blocking = k, b.bl
				SetThreads(threads)
				t.Run(fmt.Sprintf("%s/%s/t%d", k.name, b.name, threads), f)
			}
		}
	}
}

func TestGemm(t *testing.T) {
	shapes := []struct{ m, n, k int }{
		{1, 1, 1}, {1, 1, 9}, {1, 19, 1}, {3, 1, 4}, {5, 3, 2},
		{6, 16, 1},   // one full AVX2 tile
		{7, 17, 33},  // one more than a tile each way
		{2, 6, 300},  // one generic tile, several kc steps
		{3, 7, 5},    // one more than a generic tile each way
		{13, 50, 61}, // partial tiles, several nc and kc steps under tiny blockings
		{150, 9, 20}, // more rows than the tuned mc
		{2, 70, 3},
		{7, 40, 30},  // few rows, transB: computed transposed when the kernel reads A in place
		{16, 64, 50}, // the largest such product
	}
	params := []struct{ alpha, beta float32 }{{1, 0}, {-0.5, 1}, {2, -1.5}}
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, sh := range shapes {
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				for _, pr := range params {
					for _, pad := range []int{0, 3} {
						checkGemm(t, rng, tr[0], tr[1], sh.m, sh.n, sh.k, pr.alpha, pr.beta, pad)
					}
				}
			}
		}
	})
}

// checkGemm runs one product with leading dimensions pad wider than the
// matrices, in buffers with guard bands, and checks the result, that
// nothing outside dst's m x n elements changed and that a and b did not.
func checkGemm(t *testing.T, rng *rand.Rand, transA, transB bool, m, n, k int, alpha, beta float32, pad int) {
	t.Helper()
	const guard = 9
	const sentinel = -12345
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	lda, ldb, ldc := colsA+pad, colsB+pad, n+pad
	a := randSlice(rng, rowsA*lda)
	b := randSlice(rng, rowsB*ldb)
	buf := make([]float32, guard+m*ldc+guard)
	for i := range buf {
		buf[i] = sentinel
	}
	dst := buf[guard : guard+m*ldc]
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if beta == 0 {
				dst[i*ldc+j] = float32(math.NaN()) // must not be read
			} else {
				dst[i*ldc+j] = float32(rng.NormFloat64())
			}
		}
	}
	a0, b0 := append([]float32(nil), a...), append([]float32(nil), b...)
	want, scale := naiveGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, dst, ldc)
	Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, dst, ldc)

	what := fmt.Sprintf("%dx%dx%d transA=%v transB=%v alpha=%g beta=%g pad=%d", m, n, k, transA, transB, alpha, beta, pad)
	worst := 0.0
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			got := float64(dst[i*ldc+j])
			d := math.Abs(got - want[i*n+j])
			// float32 accumulation: a few ulps of each term's magnitude.
			if !(d <= 1e-5*scale[i*n+j]+1e-30) {
				t.Fatalf("%s: dst[%d][%d] = %g, want %g (|diff| %g)", what, i, j, got, want[i*n+j], d)
			}
			worst = max(worst, d)
		}
		for j := n; j < ldc; j++ {
			if dst[i*ldc+j] != sentinel {
				t.Fatalf("%s: wrote dst[%d][%d], between rows", what, i, j)
			}
		}
	}
	for i := 0; i < guard; i++ {
		if buf[i] != sentinel || buf[len(buf)-1-i] != sentinel {
			t.Fatalf("%s: wrote outside dst", what)
		}
	}
	if maxDiff(a, a0) != 0 || maxDiff(b, b0) != 0 {
		t.Fatalf("%s: modified an input", what)
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func TestGemmDegenerate(t *testing.T) {
	// k = 0 or alpha = 0: dst = beta*dst, and beta = 0 clears NaN.
	dst := []float32{1, 2, float32(math.NaN()), 4}
	Gemm(false, false, 1, 2, 0, 1, nil, 0, nil, 2, 0.5, dst[:2], 2)
	if dst[0] != 0.5 || dst[1] != 1 {
		t.Errorf("k = 0, beta = 0.5: %v", dst[:2])
	}
	Gemm(false, false, 1, 2, 3, 0, make([]float32, 3), 3, make([]float32, 6), 2, 0, dst[2:], 2)
	if dst[2] != 0 || dst[3] != 0 {
		t.Errorf("alpha = 0, beta = 0: %v", dst[2:])
	}
	// m = 0 or n = 0: nothing to do, nothing checked beyond the sizes.
	Gemm(false, false, 0, 5, 5, 1, nil, 5, make([]float32, 25), 5, 0, nil, 5)
}

func TestGemmBadArgsPanic(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"lda too small", func() {
			Gemm(false, false, 2, 2, 3, 1, make([]float32, 6), 2, make([]float32, 6), 2, 0, make([]float32, 4), 2)
		}},
		{"a too short", func() {
			Gemm(false, false, 2, 2, 3, 1, make([]float32, 5), 3, make([]float32, 6), 2, 0, make([]float32, 4), 2)
		}},
		{"dst too short", func() {
			Gemm(false, true, 2, 2, 3, 1, make([]float32, 6), 3, make([]float32, 6), 3, 0, make([]float32, 3), 2)
		}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

// TestGenericKernelDirect checks the portable tile on its own, whatever
// kernel Gemm uses on this machine: a 2 x 6 tile in a wider dst, whose
// other columns must not change.
func TestGenericKernelDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const mr, nr, ldc = 2, 6, 9
	for _, kc := range []int{1, 2, 7, 64} {
		for _, beta := range []float32{0, 0.5} {
			a, b := randSlice(rng, mr*kc), randSlice(rng, nr*kc)
			dst := randSlice(rng, mr*ldc)
			want := append([]float32(nil), dst...)
			for i := 0; i < mr; i++ {
				for j := 0; j < nr; j++ {
					var s float64
					for p := 0; p < kc; p++ {
						s += float64(a[p*mr+i]) * float64(b[p*nr+j])
					}
					want[i*ldc+j] = float32(2*s + float64(beta)*float64(want[i*ldc+j]))
				}
			}
			tileGeneric(kc, a, b, dst, ldc, 2, beta)
			assertNear(t, fmt.Sprint("tileGeneric kc=", kc, " beta=", beta), dst, want, 1e-4)
		}
	}
}

func benchGemm(b *testing.B, m, n, k int) {
	rng := rand.New(rand.NewPCG(15, 16))
	a, bb, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	b.ReportAllocs()
	for b.Loop() {
		Gemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// Conv-shaped products (filters x pixels x C*9) of the vg128 CRN.
func BenchmarkGemm_64x16384x2592(b *testing.B) { benchGemm(b, 64, 16384, 2592) }
func BenchmarkGemm_256x1024x6048(b *testing.B) { benchGemm(b, 256, 1024, 6048) }
func BenchmarkGemm_1024x64x9216(b *testing.B)  { benchGemm(b, 1024, 64, 9216) }
