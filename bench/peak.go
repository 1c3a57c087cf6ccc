package bench

import (
	"fmt"
	"time"
)

// FlopsPerCycle is the single-precision FLOPs one core can finish per
// cycle with AVX2 and FMA: 2 FMA pipes x 8 lanes x 2 FLOPs. It holds for
// the VM's AMD EPYC (CPUID family 25 model 1, Zen 3, whose FPU has two
// 256-bit multiply/FMA pipes and two add pipes) and for Zen 2 to 5 and
// Intel cores from Haswell on in AVX2 code; it is an assumption, not
// read from the CPU.
const FlopsPerCycle = 32

// imulLatency is the latency in cycles of a 64-bit register IMUL on the
// same cores (Agner Fog's instruction tables: 3 on Zen 1 to 5 and on
// Intel since Nehalem), which ClockGHz times.
const imulLatency = 3

// ClockGHz measures the clock of the core it runs on: a chain of
// dependent 64-bit multiplications takes imulLatency cycles a link, and
// the fastest of many short runs is the one least disturbed by other
// processes (it is a lower bound on the clock).
func ClockGHz() float64 {
	const links = 8 * 20000
	best := time.Duration(1<<63 - 1)
	var sink uint64
	for r := range 100 {
		t0 := time.Now()
		sink += imulChain(uint64(r)|1, 0x9E3779B97F4A7C15, links/8)
		best = min(best, time.Since(t0))
	}
	if sink == 0 || best <= 0 { // sink keeps the chain; an odd product is never 0
		return 0
	}
	return imulLatency * links / float64(best.Nanoseconds())
}

//go:noinline
func imulChain(x, k uint64, n int) uint64 {
	for range n {
		x *= k
		x *= k
		x *= k
		x *= k
		x *= k
		x *= k
		x *= k
		x *= k
	}
	return x
}

// Peak is the assumed peak rate of some cores: FlopsPerCycle per cycle
// at a measured clock.
type Peak struct {
	Threads  int
	ClockGHz float64
}

// GFLOPs is Threads x FlopsPerCycle x ClockGHz.
func (p Peak) GFLOPs() float64 { return float64(p.Threads) * FlopsPerCycle * p.ClockGHz }

func (p Peak) String() string {
	return fmt.Sprintf("peak %.1f GFLOP/s = %d threads x %d FLOP/cycle (AVX2: 2 FMA pipes x 8 lanes x 2) x %.2f GHz (measured)",
		p.GFLOPs(), p.Threads, FlopsPerCycle, p.ClockGHz)
}
