//go:build js && wasm && !purego

package nn

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// The test runner (tools/wasmexec) must hand the SIMD tile to the build,
// or its tests would silently cover the portable tile only.
func TestSIMDKernelActive(t *testing.T) {
	if os.Getenv("SG2IM_SIMD") == "0" {
		t.Skip("SG2IM_SIMD=0: the portable tile is expected")
	}
	if got := GemmKernel(); got != "wasm-simd" {
		t.Fatalf("GemmKernel() = %q under GOOS=js, want wasm-simd: run the tests with -exec tools/wasmexec/exec", got)
	}
}

// With SG2IM_THREADS=n the runner starts n-1 helper threads (as the
// browser's loader does when the page is cross-origin isolated): products
// and Winograd convolutions must use them, and give the same bits as on
// one thread.
func TestKernelThreads(t *testing.T) {
	want, _ := strconv.Atoi(os.Getenv("SG2IM_THREADS"))
	if want < 2 {
		if KernelThreads() != 1 {
			t.Fatalf("KernelThreads() = %d without helpers", KernelThreads())
		}
		t.Skip("SG2IM_THREADS unset: one thread")
	}
	if got := KernelThreads(); got != want {
		t.Fatalf("KernelThreads() = %d, want %d", got, want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		return v
	}
	// A 3x3 convolution at 8x8 (tiles reading A and B in place), one at
	// 32x32 (Winograd) and a plain product with partial tiles, with an
	// epilogue.
	// Shapes small enough for a quick test; the threshold that keeps small
	// layers on one thread is lowered for them.
	defer func(v float64) { parMinFlops = v }(parMinFlops)
	parMinFlops = 1 << 20
	shapes := []ConvShape{
		{N: 1, C: 96, H: 8, W: 8, F: 100, KH: 3, KW: 3, Stride: 1, Pad: 1, OutH: 8, OutW: 8},
		{N: 1, C: 40, H: 32, W: 32, F: 38, KH: 3, KW: 3, Stride: 1, Pad: 1, OutH: 32, OutW: 32},
		{N: 2, C: 64, H: 4, W: 4, F: 130, KH: 3, KW: 3, Stride: 1, Pad: 1, OutH: 4, OutW: 4},
	}
	for _, s := range shapes {
		x, w := fill(s.N*s.C*s.H*s.W), fill(s.F*s.C*9)
		epi := &Epilogue{Scale: fill(s.F), Shift: fill(s.F), Act: true, Slope: 0.2}
		var outs [2][]float32
		for i, n := range []int{1, 0} {
			SetThreads(n)
			outs[i] = make([]float32, s.N*s.F*s.OutH*s.OutW)
			// The helpers start in their own time: try a few times.
			for try := 0; try < 50; try++ {
				ThreadsUsed()
				Conv2dFused(outs[i], x, w, s, epi)
				if used := ThreadsUsed(); n == 1 || used == want {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		SetThreads(0)
		for j := range outs[0] {
			if math.Float32bits(outs[0][j]) != math.Float32bits(outs[1][j]) {
				t.Fatalf("%+v: output %d is %v on one thread, %v on %d", s, j, outs[0][j], outs[1][j], want)
			}
		}
		Conv2dFused(outs[1], x, w, s, epi)
		if used := ThreadsUsed(); used != want {
			t.Errorf("%+v: the convolution used %d threads, want %d", s, used, want)
		}
	}
	m, n, k := 100, 101, 300
	a, b, c := fill(m*k), fill(k*n), fill(m*n)
	var outs [2][]float32
	for i, th := range []int{1, 0} {
		SetThreads(th)
		outs[i] = append([]float32(nil), c...)
		Gemm(false, false, m, n, k, 1.5, a, k, b, n, 0.5, outs[i], n)
	}
	SetThreads(0)
	if used := ThreadsUsed(); used != want {
		t.Errorf("Gemm used %d threads, want %d", used, want)
	}
	for j := range outs[0] {
		if math.Float32bits(outs[0][j]) != math.Float32bits(outs[1][j]) {
			t.Fatalf("Gemm: output %d is %v on one thread, %v on %d", j, outs[0][j], outs[1][j], want)
		}
	}
}
