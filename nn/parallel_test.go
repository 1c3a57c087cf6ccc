package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestOpsSameBitsAnyThreads runs a chain of the ops that share their
// planes, channels or objects out among goroutines (large enough to be
// split) forward and backward on one, two and three goroutines, and
// checks that every output and gradient is the same bits.
func TestOpsSameBitsAnyThreads(t *testing.T) {
	defer SetThreads(0)
	const n, c, side, objs = 4, 8, 32, 6
	rng := rand.New(rand.NewPCG(21, 22))
	x := randTensor(rng, n, c, side, side)
	vecs := randTensor(rng, objs, c)
	planes := randTensor(rng, objs, 1, side, side)
	grid := randTensor(rng, n, side, side, 2)
	wt, bias := randTensor(rng, c), randTensor(rng, c)
	r := randTensor(rng, n, 4*c, side, side)
	img := []int{0, 0, 1, 2, 2, 3}
	var first []*Tensor
	for _, threads := range []int{1, 2, 3} {
		SetThreads(threads)
		xv, vv, pv := Param(x.Clone()), Param(vecs.Clone()), Param(planes.Clone())
		wv, bv := Param(wt.Clone()), Param(bias.Clone())
		runMean, runVar := New(c), New(c)
		for i := range runVar.Data {
			runVar.Data[i] = 1
		}
		tp := NewTape()
		h := tp.BatchNorm(xv, wv, bv, runMean, runVar, true, 0.1, 1e-5)
		h = tp.LeakyReLU(h, 0.2)
		e := tp.BatchNorm(h, wv, bv, runMean, runVar, false, 0.1, 1e-5)
		lay := tp.ReLU(tp.Paint(n, vv, pv, img))
		up := tp.UpsampleNearest(tp.AvgPool2d(tp.InstanceNorm(xv, 1e-5), 2), 2)
		cat := tp.Concat(1, e, lay, up, tp.GridSample(h, grid))
		loss := tp.weightedTotal(cat, r)
		tp.Backward(loss)
		got := []*Tensor{cat.Value, xv.Grad, vv.Grad, pv.Grad, wv.Grad, bv.Grad, runMean, runVar}
		if threads == 1 {
			first = got
			continue
		}
		for i, name := range []string{"output", "dx", "dvecs", "dplanes", "dweight", "dbias", "running mean", "running variance"} {
			assertNear(t, fmt.Sprintf("%s on %d goroutines", name, threads), got[i].Data, first[i].Data, 0)
		}
	}
}

// TestParallelForCoversOnce checks that parallelFor visits every item
// exactly once, split or not.
func TestParallelForCoversOnce(t *testing.T) {
	defer SetThreads(0)
	for _, threads := range []int{1, 2, 3, 7} {
		SetThreads(threads)
		for _, tc := range []struct{ n, per int }{{0, 1}, {1, 1 << 20}, {5, 1 << 20}, {100, 1}, {1000, 1 << 10}} {
			seen := make([]int32, tc.n)
			parallelFor(tc.n, tc.per, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, s := range seen {
				if s != 1 {
					t.Fatalf("threads %d, %+v: item %d visited %d times", threads, tc, i, s)
				}
			}
		}
	}
}
