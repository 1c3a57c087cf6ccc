package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// naiveConv is the textbook definition in float64.
func naiveConv(x, w, b *Tensor, stride, pad int) *Tensor {
	s := NewConvShape(x, w, stride, pad)
	y := New(s.N, s.F, s.OutH, s.OutW)
	for n := 0; n < s.N; n++ {
		for f := 0; f < s.F; f++ {
			for oy := 0; oy < s.OutH; oy++ {
				for ox := 0; ox < s.OutW; ox++ {
					sum := 0.0
					if b != nil {
						sum = float64(b.Data[f])
					}
					for c := 0; c < s.C; c++ {
						for ky := 0; ky < s.KH; ky++ {
							for kx := 0; kx < s.KW; kx++ {
								iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
								if iy < 0 || iy >= s.H || ix < 0 || ix >= s.W {
									continue
								}
								sum += float64(x.Data[((n*s.C+c)*s.H+iy)*s.W+ix]) *
									float64(w.Data[((f*s.C+c)*s.KH+ky)*s.KW+kx])
							}
						}
					}
					y.Data[((n*s.F+f)*s.OutH+oy)*s.OutW+ox] = float32(sum)
				}
			}
		}
	}
	return y
}

func TestConv2d(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, c, h, w, f, k, stride, pad int }{
		{1, 1, 1, 1, 1, 1, 1, 0},
		{2, 3, 5, 7, 4, 3, 1, 1},   // odd sizes, same padding
		{1, 4, 8, 8, 6, 1, 1, 0},   // 1x1: no im2col
		{2, 3, 9, 6, 5, 4, 2, 0},   // discriminator-style strided 4x4, valid
		{1, 2, 6, 6, 3, 3, 2, 1},   // stride 2 with padding
		{1, 2, 3, 3, 2, 3, 1, 2},   // padding wider than the kernel reach
		{3, 5, 2, 2, 7, 1, 2, 0},   // 1x1 with stride
		{1, 29, 4, 4, 32, 3, 1, 1}, // CRN's first module
	} {
		name := fmt.Sprintf("%dx%dx%dx%d_f%d_k%d_s%d_p%d", tc.n, tc.c, tc.h, tc.w, tc.f, tc.k, tc.stride, tc.pad)
		t.Run(name, func(t *testing.T) {
			x := randTensor(rng, tc.n, tc.c, tc.h, tc.w)
			w := randTensor(rng, tc.f, tc.c, tc.k, tc.k)
			b := randTensor(rng, tc.f)
			x0, w0 := x.Clone(), w.Clone()
			got := Conv2d(x, w, b, tc.stride, tc.pad)
			want := naiveConv(x, w, b, tc.stride, tc.pad)
			if !SameShape(got.Shape, want.Shape) {
				t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
			}
			assertNear(t, "conv", got.Data, want.Data, 1e-4)
			assertNear(t, "conv without bias", Conv2d(x, w, nil, tc.stride, tc.pad).Data,
				naiveConv(x, w, nil, tc.stride, tc.pad).Data, 1e-4)
			unchanged(t, "x", x0, x)
			unchanged(t, "w", w0, w)
		})
	}
}

func TestConv2dForwardGuardBands(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := randTensor(rng, 2, 3, 5, 5)
	w := randTensor(rng, 4, 3, 3, 3)
	s := NewConvShape(x, w, 1, 1)
	const guard = 7
	const sentinel = 12345
	buf := make([]float32, guard+s.N*s.F*s.OutH*s.OutW+guard)
	for i := range buf {
		buf[i] = sentinel
	}
	Conv2dForward(buf[guard:len(buf)-guard], x.Data, w.Data, nil, make([]float32, s.ColSize()), s)
	for i := 0; i < guard; i++ {
		if buf[i] != sentinel || buf[len(buf)-1-i] != sentinel {
			t.Fatal("Conv2dForward wrote outside dst")
		}
	}
}

func TestLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ n, in, out int }{{1, 1, 1}, {3, 5, 2}, {7, 48, 88}, {2, 0, 3}} {
		x := randTensor(rng, tc.n, tc.in)
		w := randTensor(rng, tc.out, tc.in)
		b := randTensor(rng, tc.out)
		got := Linear(x, w, b)
		want := make([]float32, tc.n*tc.out)
		for i := 0; i < tc.n; i++ {
			for o := 0; o < tc.out; o++ {
				s := float64(b.Data[o])
				for k := 0; k < tc.in; k++ {
					s += float64(x.Data[i*tc.in+k]) * float64(w.Data[o*tc.in+k])
				}
				want[i*tc.out+o] = float32(s)
			}
		}
		assertNear(t, fmt.Sprint("linear ", tc), got.Data, want, 1e-5)
	}
}

func TestConv2dBadShapePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("no panic for mismatched channels")
		}
	}()
	Conv2d(New(1, 3, 4, 4), New(2, 4, 3, 3), nil, 1, 1)
}

func benchConv(b *testing.B, side, in, out, k int) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := randTensor(rng, 1, in, side, side)
	w := randTensor(rng, out, in, k, k)
	bias := randTensor(rng, out)
	b.ReportAllocs()
	for b.Loop() {
		Conv2d(x, w, bias, 1, k/2)
	}
	b.ReportMetric(float64(2*in*out*k*k*side*side)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConv3x3_64x64x64(b *testing.B)  { benchConv(b, 64, 64, 64, 3) }
func BenchmarkConv3x3_16x16x512(b *testing.B) { benchConv(b, 16, 512, 512, 3) }
func BenchmarkConv3x3_64x64x160(b *testing.B) { benchConv(b, 64, 160+128, 64, 3) }
func BenchmarkConv1x1_64x64x64(b *testing.B)  { benchConv(b, 64, 64, 3, 1) }

// The object discriminator's first layer at the demo's widths: 56 crops
// of 32 x 32, 4x4 stride 2, outputs 15 x 15 (one product per crop).
func BenchmarkConv4x4s2_B56_32x32x3to32(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := randTensor(rng, 56, 3, 32, 32)
	w := randTensor(rng, 32, 3, 4, 4)
	b.ReportAllocs()
	for b.Loop() {
		Conv2d(x, w, nil, 2, 0)
	}
}

// TestIm2colMatchesDefinition checks the im2col matrix value by value
// against its definition, garbage in dst beforehand, over strides, pads
// and kernels that reach past every edge (and a kernel wider than the
// image).
func TestIm2colMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ h, w, k, stride, pad int }{
		{5, 7, 3, 1, 1}, {5, 7, 3, 1, 0}, {6, 6, 4, 2, 1}, {7, 5, 4, 2, 2}, {3, 2, 4, 1, 3},
		{4, 4, 1, 1, 0}, {9, 8, 3, 3, 2}, {2, 3, 5, 2, 2},
	} {
		x := randTensor(rng, 1, 2, c.h, c.w)
		w := New(1, 2, c.k, c.k)
		s := NewConvShape(x, w, c.stride, c.pad)
		rows, cols := s.C*s.KH*s.KW, s.OutH*s.OutW
		dst := make([]float32, rows*cols)
		for i := range dst {
			dst[i] = 99
		}
		Im2col(dst, x.Data, s)
		for r := 0; r < rows; r++ {
			ch, ky, kx := r/(s.KH*s.KW), r/s.KW%s.KH, r%s.KW
			for j := 0; j < cols; j++ {
				iy, ix := j/s.OutW*s.Stride-s.Pad+ky, j%s.OutW*s.Stride-s.Pad+kx
				var want float32
				if iy >= 0 && iy < s.H && ix >= 0 && ix < s.W {
					want = x.Data[(ch*s.H+iy)*s.W+ix]
				}
				if got := dst[r*cols+j]; got != want {
					t.Fatalf("%+v: row %d column %d: %v, want %v", c, r, j, got, want)
				}
			}
		}
	}
}

// benchConvBackward times the backward of a batch-n convolution, weights
// and input both needing gradients, as in a training step.
func benchConvBackward(b *testing.B, n, side, in, out, k, stride, pad int) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := Param(randTensor(rng, n, in, side, side))
	w := Param(randTensor(rng, out, in, k, k))
	bias := Param(randTensor(rng, out))
	s := NewConvShape(x.Value, w.Value, stride, pad)
	g := randTensor(rng, n, out, s.OutH, s.OutW)
	b.ReportAllocs()
	for b.Loop() {
		x.Grad, w.Grad, bias.Grad = nil, nil, nil // fresh each step, as after ZeroGrad
		Conv2dBackward(x, w, bias, g, s)
	}
}

// The discriminators' first layer (C4-16-2 on 64 x 64 images, batch 8)
// and the refinement network's last 3x3 module at a quarter of the widths.
func BenchmarkConvBackward4x4s2_B8_64x64x3to16(b *testing.B) {
	benchConvBackward(b, 8, 64, 3, 16, 4, 2, 1)
}

// TestConvSameBitsAnyThreads checks that a convolution and its gradients
// are the same bits on one goroutine as on several, where the images are
// shared out among them (sizes that the kernel's tile does not divide, as
// a discriminator's crops) or the products split, and right.
func TestConvSameBitsAnyThreads(t *testing.T) {
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct{ n, ch, side, f, k, stride, pad int }{
		{9, 6, 15, 8, 4, 2, 0}, // 6x6 outputs: one product per image
		{7, 5, 9, 7, 3, 2, 1},  // 5x5
		{4, 3, 34, 6, 4, 2, 0}, // 16x16: one product for all images
		{5, 4, 10, 3, 3, 1, 1}, // stride 1, 10x10
	} {
		x := randTensor(rng, c.n, c.ch, c.side, c.side)
		w := randTensor(rng, c.f, c.ch, c.k, c.k)
		b := randTensor(rng, c.f)
		s := NewConvShape(x, w, c.stride, c.pad)
		g := randTensor(rng, c.n, c.f, s.OutH, s.OutW)
		var first []*Tensor
		for _, threads := range []int{1, 2, 3} {
			SetThreads(threads)
			y := Conv2d(x, w, b, c.stride, c.pad)
			xv, wv, bv := Param(x), Param(w), Param(b)
			Conv2dBackward(xv, wv, bv, g, s)
			got := []*Tensor{y, xv.Grad, wv.Grad, bv.Grad}
			if threads == 1 {
				first = got
				assertNear(t, fmt.Sprint("conv ", c), y.Data, naiveConv(x, w, b, c.stride, c.pad).Data, 1e-4)
				continue
			}
			for i, name := range []string{"output", "input gradient", "weight gradient", "bias gradient"} {
				assertNear(t, fmt.Sprintf("%s %v on %d goroutines", name, c, threads), got[i].Data, first[i].Data, 0)
			}
		}
	}
}

func BenchmarkConvBackward3x3_B8_64x64x48to16(b *testing.B) {
	benchConvBackward(b, 8, 64, 48, 16, 3, 1, 1)
}

// TestConvInputGradAddsOrWrites checks that the input gradient written
// into a fresh gradient, plus what was there, is what is added to an
// existing one, bit for bit, on the stride-1 path (a convolution into a
// copy, then added; col2im adds each tap into dx in place).
func TestConvInputGradAddsOrWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct{ side, k, stride, pad int }{{32, 3, 1, 1}, {8, 3, 1, 1}, {12, 1, 1, 0}} {
		x := randTensor(rng, 2, 5, c.side, c.side)
		w := Param(randTensor(rng, 6, 5, c.k, c.k))
		s := NewConvShape(x, w.Value, c.stride, c.pad)
		g := randTensor(rng, 2, 6, s.OutH, s.OutW)
		fresh := Param(x)
		Conv2dBackward(fresh, w, nil, g, s)
		before := randTensor(rng, x.Shape...)
		acc := Param(x)
		acc.Grad = before.Clone()
		Conv2dBackward(acc, w, nil, g, s)
		want := make([]float32, len(before.Data))
		for i := range want {
			want[i] = before.Data[i] + fresh.Grad.Data[i]
		}
		assertNear(t, fmt.Sprint("input gradient ", c), acc.Grad.Data, want, 0)
	}
}
