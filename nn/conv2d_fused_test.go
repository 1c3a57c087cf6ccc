package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
	"weak"
)

// TestConv2dInputs checks the fused convolution, over a concatenation of
// plain and upsampled inputs and with an epilogue, against naiveConv of the
// concatenation built by Concat and UpsampleNearest, under every kernel,
// blocking and thread count. Widths of 16 and more let the AVX2 kernel read
// rows of the image in place; odd ones and stride 2 make it pack; even 3x3
// convolutions from the kernel's winoMinPixels take Winograd, with the
// kernel's transforms when the width is a multiple of 2*nr.
func TestConv2dInputs(t *testing.T) {
	cases := []struct {
		n, h, w  int
		parts    [][2]int // channels, upsampling
		f, k     int
		str, pad int
	}{
		{1, 1, 1, [][2]int{{1, 1}}, 1, 1, 1, 0},
		{2, 5, 7, [][2]int{{3, 1}}, 4, 3, 1, 1},
		{1, 4, 16, [][2]int{{5, 1}}, 7, 3, 1, 1},
		{1, 6, 33, [][2]int{{4, 1}, {2, 1}}, 13, 3, 1, 1},
		{2, 8, 32, [][2]int{{3, 1}, {2, 2}}, 6, 3, 1, 1},  // the CRN's layout + upsampled features
		{1, 4, 36, [][2]int{{2, 2}, {1, 4}}, 5, 3, 1, 2},  // padding wider than the reach
		{1, 9, 20, [][2]int{{3, 1}}, 5, 4, 2, 1},          // strided
		{1, 16, 16, [][2]int{{8, 1}}, 3, 1, 1, 0},         // 1x1: the input is B
		{1, 16, 16, [][2]int{{4, 1}, {4, 2}}, 3, 1, 1, 0}, // 1x1 over a concatenation
		{7, 4, 4, [][2]int{{1, 1}, {5, 2}}, 9, 3, 1, 1},   // the mask net: a batch of 7 small images
		// Winograd F(2x2, 3x3) with the AVX2 kernel: from 8 x 8, its transforms for widths of 16 and multiples of 32.
		{1, 32, 32, [][2]int{{3, 1}, {2, 2}}, 7, 3, 1, 1},
		{2, 16, 64, [][2]int{{4, 1}}, 13, 3, 1, 1},
		{1, 2, 512, [][2]int{{2, 1}, {1, 2}}, 6, 3, 1, 1},   // one tile row
		{1, 32, 32, [][2]int{{300, 1}}, 4, 3, 1, 1},         // channels in several kc steps
		{1, 32, 32, [][2]int{{2, 4}, {3, 1}}, 5, 3, 1, 1},   // upsampled 4x
		{1, 32, 34, [][2]int{{3, 1}}, 7, 3, 1, 1},           // portable transforms: 17 tiles a row
		{1, 16, 16, [][2]int{{5, 1}, {3, 2}}, 9, 3, 1, 1},   // the wasm SIMD transforms: one run a row
		{1, 8, 8, [][2]int{{20, 1}, {5, 2}}, 40, 3, 1, 1},   // one block shared by filter panels (winogradSplit)
		{1, 20, 16, [][2]int{{3, 1}, {2, 2}}, 7, 3, 1, 1},   // AVX2 input transform of rows of 8 tiles, two at a time
		{1, 18, 16, [][2]int{{3, 1}}, 5, 3, 1, 1},           // ... and a last block of one tile row: portable
		{1, 8, 48, [][2]int{{3, 1}}, 5, 3, 1, 1},            // portable input, the kernel's output transform
		{3, 8, 8, [][2]int{{4, 1}}, 5, 3, 1, 1},             // fewer filters than a panel, several images
		{1, 16, 32, [][2]int{{6, 2}}, 7, 3, 1, 1},           // every channel upsampled: 7 of the 16 products are zeros
		{1, 32, 32, [][2]int{{5, 1}, {300, 2}}, 7, 3, 1, 1}, // upsampled channels past a kc step
		{1, 32, 64, [][2]int{{4, 1}, {3, 4}}, 7, 3, 1, 1},   // upsampled 4x
	}
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, tc := range cases {
			var parts []*Tensor
			var ins []ConvInput
			c := 0
			for i, p := range tc.parts {
				x := randTensor(rng, tc.n, p[0], tc.h/p[1], tc.w/p[1])
				in := ConvInput{Data: x.Data, C: p[0], Up: p[1]}
				if i == 1 { // the second input with a per-channel affine map
					in.Scale, in.Shift = randSlice(rng, p[0]), randSlice(rng, p[0])
					x = x.Clone()
					plane := x.Numel() / tc.n / p[0]
					for j := range x.Data {
						ch := j / plane % p[0]
						x.Data[j] = x.Data[j]*in.Scale[ch] + in.Shift[ch]
					}
				}
				ins = append(ins, in)
				if p[1] > 1 {
					x = UpsampleNearest(x, p[1])
				}
				parts = append(parts, x)
				c += p[0]
			}
			x := Concat(1, parts...)
			// Weights of a trained-like scale (N(0, 1/fan_in)), so that the
			// outputs are O(1) and the tolerance absolute.
			w := randTensor(rng, tc.f, c, tc.k, tc.k)
			for i := range w.Data {
				w.Data[i] /= float32(math.Sqrt(float64(c * tc.k * tc.k)))
			}
			b := randTensor(rng, tc.f)
			scale := randTensor(rng, tc.f)
			ins0 := make([][]float32, len(ins))
			for i, in := range ins {
				ins0[i] = append([]float32(nil), in.Data...)
			}
			w0 := w.Clone()
			s := NewConvShape(x, w, tc.str, tc.pad)
			name := fmt.Sprintf("%+v", tc)

			// Epilogue: (conv + b) * scale + shift, then LeakyReLU 0.2.
			shift := make([]float32, tc.f)
			for f := range shift {
				shift[f] = b.Data[f]*scale.Data[f] - 0.3
			}
			ref := naiveConv(x, w, b, tc.str, tc.pad)
			outSize := s.OutH * s.OutW
			for i, v := range ref.Data {
				f := i / outSize % tc.f
				v = (v-b.Data[f])*scale.Data[f] + shift[f]
				if v < 0 {
					v *= 0.2
				}
				ref.Data[i] = v
			}
			got := New(ref.Shape...)
			Conv2dInputs(got.Data, ins, w.Data, s, &Epilogue{Scale: scale.Data, Shift: shift, Act: true, Slope: 0.2})
			assertNear(t, name+" fused", got.Data, ref.Data, 1e-4)

			plain := New(ref.Shape...)
			Conv2dInputs(plain.Data, ins, w.Data, s, nil)
			assertNear(t, name+" no epilogue", plain.Data, naiveConv(x, w, nil, tc.str, tc.pad).Data, 1e-4)

			for i, in := range ins {
				if maxDiff(in.Data, ins0[i]) != 0 {
					t.Errorf("%s: input %d modified", name, i)
				}
			}
			unchanged(t, name+" w", w0, w)
		}
	})
}

func TestConv2dInputsBadShapesPanic(t *testing.T) {
	x, w := New(1, 3, 4, 4), New(2, 3, 3, 3)
	s := NewConvShape(x, w, 1, 1)
	dst := make([]float32, 2*16)
	for _, tc := range []struct {
		name string
		ins  []ConvInput
	}{
		{"channels do not add up", []ConvInput{{Data: x.Data, C: 2}}},
		{"input too short", []ConvInput{{Data: x.Data[:40], C: 3}}},
		{"size not divisible by Up", []ConvInput{{Data: x.Data, C: 3, Up: 3}}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			Conv2dInputs(dst, tc.ins, w.Data, s, nil)
		}()
	}
}

// TestWinogradSeesNewWeights changes the filters in place between two
// convolutions, as an optimizer step does: the second must not reuse the
// first's transformed filters.
func TestWinogradSeesNewWeights(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		x := randTensor(rng, 1, 4, 32, 32)
		w := randTensor(rng, 5, 4, 3, 3)
		s := NewConvShape(x, w, 1, 1)
		if !useWinograd(s, activeKernel, true) {
			t.Skipf("kernel %s convolves 32 x 32 directly", activeKernel.name)
		}
		got := New(1, 5, 32, 32)
		for step := range 3 {
			Conv2dFused(got.Data, x.Data, w.Data, s, nil)
			assertNear(t, fmt.Sprintf("step %d", step), got.Data, naiveConv(x, w, nil, 1, 1).Data, 1e-4)
			w.Data[rng.IntN(len(w.Data))] += 0.5 // one value: the copy must be compared whole
		}
	})
}

// TestSameBitsParallel: the cache's check, split among goroutines, finds
// one changed value wherever it lies, and a bit change that compares
// equal as a float (-0 for 0).
func TestSameBitsParallel(t *testing.T) {
	a := make([]float32, 3*minParallelCopy+5)
	for i := range a {
		a[i] = float32(i % 97)
	}
	for _, threads := range []int{1, 2, 3} {
		if !sameBitsParallel(a, append([]float32(nil), a...), threads) {
			t.Errorf("%d goroutines: equal copies reported different", threads)
		}
		for _, at := range []int{0, minParallelCopy, 2*minParallelCopy + 1, len(a) - 1} {
			b := append([]float32(nil), a...)
			b[at] = a[at] + 1
			if at == 0 {
				b[at] = float32(math.Copysign(0, -1)) // equal as floats to a[0] = 0, not as bits
			}
			if sameBitsParallel(a, b, threads) {
				t.Errorf("%d goroutines: a change at %d of %d missed", threads, at, len(a))
			}
		}
	}
	if sameBitsParallel(a, a[1:], 2) {
		t.Error("different lengths reported equal")
	}
}

// TestTapeConvKeepsNoTransform: a tape's convolution (weights in training)
// takes Winograd from the kernel's fresh-filter threshold and leaves its
// transformed filters out of the cache, with the values of Conv2d, which
// keeps them.
func TestTapeConvKeepsNoTransform(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, side := range []int{8, 16, 32} {
			x := randTensor(rng, 2, 6, side, side)
			w := randTensor(rng, 7, 6, 3, 3)
			b := randTensor(rng, 7)
			got := NewTape().Conv2d(Param(x), Param(w), Param(b), 1, 1).Value
			winogradCache.Lock()
			_, kept := winogradCache.entries[weak.Make(&w.Data[0])]
			winogradCache.Unlock()
			if kept {
				t.Errorf("%d x %d: the tape's filters were kept", side, side)
			}
			assertNear(t, fmt.Sprint("tape conv ", side), got.Data, Conv2d(x, w, b, 1, 1).Data, 1e-4)
			assertNear(t, fmt.Sprint("tape conv ", side, " naive"), got.Data, naiveConv(x, w, b, 1, 1).Data, 1e-4)
		}
	})
}

// TestWinogradCacheLetsModelsGo: the transforms of weights that are no
// longer referenced leave the cache once the weights are collected.
func TestWinogradCacheLetsModelsGo(t *testing.T) {
	if !useWinograd(ConvShape{N: 1, C: 4, H: 32, W: 32, F: 5, KH: 3, KW: 3, Stride: 1, Pad: 1, OutH: 32, OutW: 32}, activeKernel, true) {
		t.Skipf("kernel %s convolves 32 x 32 directly", activeKernel.name)
	}
	cached := func(key weak.Pointer[float32]) bool {
		winogradCache.Lock()
		defer winogradCache.Unlock()
		_, ok := winogradCache.entries[key]
		return ok
	}
	rng := rand.New(rand.NewPCG(17, 18))
	x := randTensor(rng, 1, 4, 32, 32)
	key := func() weak.Pointer[float32] { // the weights are reachable only in here
		w := randTensor(rng, 5, 4, 3, 3)
		Conv2d(x, w, nil, 1, 1)
		key := weak.Make(&w.Data[0])
		if !cached(key) {
			t.Fatal("the transforms were not kept")
		}
		return key
	}()
	for i := 0; i < 100 && cached(key); i++ { // cleanups run after a collection, in their own goroutine
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if cached(key) {
		t.Error("the transforms stayed once the weights were collected")
	}
}
