package bench

import (
	"fmt"
	"io"
	"time"

	"github.com/sg2im-go/sg2im/model"
)

// Profile accumulates wall time and floating-point operations per layer
// type over eval-mode forward passes: a model.Recorder for
// model.Options.Profile. A nil *Profile records nothing. A Profile is not
// safe for concurrent passes.
type Profile struct {
	layers map[string]*layerSum
	passes int
	total  time.Duration // of whole passes
}

// layerSum is what a Profile adds up for one layer type.
type layerSum struct {
	d            time.Duration
	flops, calls int64
}

// LayerOther is the table's last row: the part of the passes' wall time
// no layer type recorded.
const LayerOther = "other"

// LayerStat is one row of a profile table: per-pass averages.
type LayerStat struct {
	Layer string  `json:"layer"`
	Calls float64 `json:"calls"` // calls per pass
	Ms    float64 `json:"ms"`    // wall time per pass
	// GFLOP per pass, counted from the shapes: a convolution
	// 2*F*C*KH*KW*OutH*OutW*N (as computed directly: Winograd, where
	// nn uses it, multiplies less, so GFLOPs is then an effective rate),
	// a linear layer 2*In*Out*Rows; 0 for the types that make no products.
	GFLOP float64 `json:"gflop"`
	// GFLOPs is GFLOP / (Ms / 1000); 0 without products.
	GFLOPs float64 `json:"gflops"`
}

// Layer charges one layer's wall time and FLOPs to its type.
func (p *Profile) Layer(layer string, d time.Duration, flops int64) {
	if p == nil {
		return
	}
	if p.layers == nil {
		p.layers = map[string]*layerSum{}
	}
	l := p.layers[layer]
	if l == nil {
		l = &layerSum{}
		p.layers[layer] = l
	}
	l.d += d
	l.flops += flops
	l.calls++
}

// Pass charges one whole forward pass.
func (p *Profile) Pass(d time.Duration) {
	if p == nil {
		return
	}
	p.total += d
	p.passes++
}

// Reset forgets everything recorded.
func (p *Profile) Reset() { *p = Profile{} }

// Passes counts the forward passes recorded.
func (p *Profile) Passes() int { return p.passes }

// TotalMs is the mean wall time of a recorded pass.
func (p *Profile) TotalMs() float64 {
	if p.passes == 0 {
		return 0
	}
	return float64(p.total.Nanoseconds()) / 1e6 / float64(p.passes)
}

// Table returns per-pass averages for every layer type in a fixed order,
// ending with other, the part of the pass's wall time no type recorded;
// the rows' Ms sum to TotalMs. Empty before any pass.
func (p *Profile) Table() []LayerStat {
	if p.passes == 0 {
		return nil
	}
	n := float64(p.passes)
	var rows []LayerStat
	rest := p.total
	for _, name := range model.LayerTypes() {
		l := p.layers[name]
		if l == nil {
			l = &layerSum{}
		}
		rest -= l.d
		rows = append(rows, stat(name, float64(l.calls)/n, float64(l.d.Nanoseconds())/n, float64(l.flops)/n))
	}
	// Timer granularity can make the sum of the parts exceed the whole by
	// a little; other never goes negative.
	rows = append(rows, stat(LayerOther, 0, float64(max(rest, 0).Nanoseconds())/n, 0))
	return rows
}

func stat(layer string, calls, ns, flops float64) LayerStat {
	s := LayerStat{Layer: layer, Calls: calls, Ms: ns / 1e6, GFLOP: flops / 1e9}
	if ns > 0 && flops > 0 {
		s.GFLOPs = flops / ns
	}
	return s
}

// WriteTable prints rows (from Table) as a text table with a total line,
// in ms and GFLOP per image for passes of the given number of images, and
// each rate's share of peakGFLOPs (a Peak's).
func WriteTable(w io.Writer, rows []LayerStat, images int, peakGFLOPs float64) {
	per := 1 / float64(max(images, 1))
	fmt.Fprintf(w, "%-14s %9s %6s %9s %9s %7s\n", "layer", "ms/image", "share", "GFLOP", "GFLOP/s", "of peak")
	var ms, gflop float64
	for _, r := range rows {
		ms += r.Ms
		gflop += r.GFLOP
	}
	ofPeak := func(rate float64) string {
		if peakGFLOPs <= 0 {
			return gf(0, "")
		}
		return gf(100*rate/peakGFLOPs, "%.1f%%")
	}
	for _, r := range rows {
		share := 0.0
		if ms > 0 {
			share = 100 * r.Ms / ms
		}
		fmt.Fprintf(w, "%-14s %9.2f %5.1f%% %9s %9s %7s\n", r.Layer, r.Ms*per, share, gf(r.GFLOP*per, "%.3f"), gf(r.GFLOPs, "%.1f"), ofPeak(r.GFLOPs))
	}
	rate := 0.0
	if ms > 0 {
		rate = gflop / ms * 1000
	}
	fmt.Fprintf(w, "%-14s %9.2f %5.1f%% %9s %9s %7s\n", "total", ms*per, 100.0, gf(gflop*per, "%.3f"), gf(rate, "%.1f"), ofPeak(rate))
}

func gf(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}
