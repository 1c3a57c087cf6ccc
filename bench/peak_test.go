package bench

import (
	"math"
	"strings"
	"testing"
)

func TestPeak(t *testing.T) {
	p := Peak{Threads: 2, ClockGHz: 3.25}
	if got := p.GFLOPs(); got != 208 {
		t.Errorf("GFLOPs %g, want 2 x 32 x 3.25 = 208", got)
	}
	if s := p.String(); !strings.HasPrefix(s, "peak 208.0 GFLOP/s = 2 threads x 32 FLOP/cycle") || !strings.HasSuffix(s, "x 3.25 GHz (measured)") {
		t.Errorf("String %q", s)
	}
}

// TestClockGHz: the measurement runs and gives a finite positive clock (its
// value depends on the machine and its load, so it is only logged).
func TestClockGHz(t *testing.T) {
	c := ClockGHz()
	if !(c > 0) || math.IsInf(c, 0) {
		t.Fatalf("ClockGHz() = %g", c)
	}
	t.Logf("measured: %.2f GHz", c)
}
