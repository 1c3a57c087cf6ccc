package model

import (
	"fmt"
	"io"
	"time"

	"github.com/sg2im-go/sg2im/nn"
)

// Layer types of a Profile, in the order of its table.
const (
	LayerConv3x3  = "conv3x3"       // CRN and mask-net 3x3 convolutions, with their fused input upsampling, batch norm, bias and activation
	LayerConv1x1  = "conv1x1"       // the mask net's last convolution and the CRN's output convolution
	LayerLinear   = "linear"        // the fully connected layers: graph convolution, box net, relationship net
	LayerNorm     = "norm"          // norms that are not fused into a convolution: instance norm (with its activation), MLP batch norm
	LayerResample = "upsample/pool" // the CRN's pooling of the layout (upsampling is fused into the convolutions)
	LayerPaint    = "mask/paint"    // mask sigmoid, box grids, grid sampling and painting the layout
	LayerOther    = "other"         // the rest of the pass: embeddings, gathers, pooling of the graph convolution, activations, noise, ...
)

// layer indexes the recorded types.
type layer int

const (
	conv3x3 layer = iota
	conv1x1
	linearLayer
	normLayer
	resample
	paint
	numLayers // other is the remainder, not recorded
)

// layerNames are the table's rows in order, other last.
var layerNames = [...]string{LayerConv3x3, LayerConv1x1, LayerLinear, LayerNorm, LayerResample, LayerPaint, LayerOther}

// Profile accumulates wall time and floating-point operations per layer
// type over eval-mode forward passes (Options.Profile). A nil *Profile
// records nothing and costs one pointer comparison per layer. A Profile
// is not safe for concurrent passes.
type Profile struct {
	ns     [numLayers]int64
	flops  [numLayers]int64
	calls  [numLayers]int64
	passes int
	total  int64 // ns of whole passes
}

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

// start returns the time a layer starts, the zero time for a nil profile.
func (p *Profile) start() time.Time {
	if p == nil {
		return time.Time{}
	}
	return time.Now()
}

// add charges the time since t0 and flops to a layer type.
func (p *Profile) add(l layer, t0 time.Time, flops int64) {
	if p == nil {
		return
	}
	p.ns[l] += time.Since(t0).Nanoseconds()
	p.flops[l] += flops
	p.calls[l]++
}

// pass charges one whole forward pass that started at t0.
func (p *Profile) pass(t0 time.Time) {
	if p == nil {
		return
	}
	p.total += time.Since(t0).Nanoseconds()
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
	return float64(p.total) / 1e6 / float64(p.passes)
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
	for i := range numLayers {
		rest -= p.ns[i]
		rows = append(rows, stat(layerNames[i], float64(p.calls[i])/n, float64(p.ns[i])/n, float64(p.flops[i])/n))
	}
	// Timer granularity can make the sum of the parts exceed the whole by
	// a little; other never goes negative.
	rows = append(rows, stat(LayerOther, 0, float64(max(rest, 0))/n, 0))
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
// in ms and GFLOP per image for passes of the given number of images.
func WriteTable(w io.Writer, rows []LayerStat, images int) {
	per := 1 / float64(max(images, 1))
	fmt.Fprintf(w, "%-14s %9s %6s %9s %9s\n", "layer", "ms/image", "share", "GFLOP", "GFLOP/s")
	var ms, gflop float64
	for _, r := range rows {
		ms += r.Ms
		gflop += r.GFLOP
	}
	for _, r := range rows {
		share := 0.0
		if ms > 0 {
			share = 100 * r.Ms / ms
		}
		fmt.Fprintf(w, "%-14s %9.2f %5.1f%% %9s %9s\n", r.Layer, r.Ms*per, share, gf(r.GFLOP*per, "%.3f"), gf(r.GFLOPs, "%.1f"))
	}
	rate := 0.0
	if ms > 0 {
		rate = gflop / ms * 1000
	}
	fmt.Fprintf(w, "%-14s %9.2f %5.1f%% %9s %9s\n", "total", ms*per, 100.0, gf(gflop*per, "%.3f"), gf(rate, "%.1f"))
}

func gf(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// addConv charges a convolution of shape s that started at t0.
func (p *Profile) addConv(t0 time.Time, s nn.ConvShape) {
	if p == nil {
		return
	}
	p.add(convLayer(s.KH, s.KW), t0, convFlops(s.F, s.C, s.KH, s.KW, s.OutH, s.OutW, s.N))
}

// convFlops is 2*F*C*KH*KW*OutH*OutW*N for a convolution of this shape.
func convFlops(F, C, KH, KW, OutH, OutW, N int) int64 {
	return 2 * int64(F) * int64(C) * int64(KH) * int64(KW) * int64(OutH) * int64(OutW) * int64(N)
}

// convLayer is the profile type of a convolution with a kh x kw kernel.
func convLayer(kh, kw int) layer {
	if kh == 1 && kw == 1 {
		return conv1x1
	}
	return conv3x3
}
