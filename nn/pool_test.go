package nn

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestRunPartsEachOnce runs regions from several goroutines at once, some
// nested inside others' parts, and checks that every part of every region
// ran exactly once before its runParts returned.
func TestRunPartsEachOnce(t *testing.T) {
	var wg sync.WaitGroup
	for caller := range 4 {
		wg.Go(func() {
			for round := range 50 {
				parts := 1 + (caller*7+round)%13
				counts := make([]atomic.Int32, parts)
				runParts(1+round%4, parts, func(p int) {
					counts[p].Add(1)
					if p == 0 && round%5 == 0 { // a region inside a part
						inner := make([]atomic.Int32, 6)
						runParts(3, 6, func(q int) { inner[q].Add(1) })
						for q := range inner {
							if n := inner[q].Load(); n != 1 {
								t.Errorf("inner part %d ran %d times", q, n)
							}
						}
					}
				})
				for p := range counts {
					if n := counts[p].Load(); n != 1 {
						t.Errorf("caller %d round %d: part %d of %d ran %d times", caller, round, p, parts, n)
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestConcurrentlyRunsAll checks that Concurrently runs every function
// once, at once when there are threads for it: the two wait for each
// other, so run one after the other they would never finish.
func TestConcurrentlyRunsAll(t *testing.T) {
	defer SetThreads(0)
	SetThreads(2)
	a, b := make(chan int), make(chan int)
	var got [2]int
	Concurrently(
		func() { a <- 1; got[0] = <-b },
		func() { got[1] = <-a; b <- 2 },
	)
	if got != [2]int{2, 1} {
		t.Errorf("got %v, want [2 1]", got)
	}
	SetThreads(1)
	ran := 0
	Concurrently(func() { ran++ }, func() { ran++ }, func() { ran++ })
	if ran != 3 {
		t.Errorf("one thread: %d of 3 functions ran", ran)
	}
}
