package model

import (
	"time"

	"github.com/sg2im-go/sg2im/nn"
)

// Layer types a Recorder is told of.
const (
	LayerConv3x3  = "conv3x3"       // CRN and mask-net 3x3 convolutions, with their fused input upsampling, batch norm, bias and activation
	LayerConv1x1  = "conv1x1"       // the mask net's last convolution and the CRN's output convolution
	LayerLinear   = "linear"        // the fully connected layers: graph convolution, box net, relationship net
	LayerNorm     = "norm"          // norms that are not fused into a convolution: instance norm (with its activation), MLP batch norm
	LayerResample = "upsample/pool" // the CRN's pooling of the layout (upsampling is fused into the convolutions)
	LayerPaint    = "mask/paint"    // mask sigmoid, box grids, grid sampling and painting the layout
)

// LayerTypes are the layer types a Recorder is told of, in a fixed order.
// The rest of a pass (embeddings, gathers, pooling of the graph
// convolution, activations, noise, ...) is no layer's.
func LayerTypes() []string {
	return []string{LayerConv3x3, LayerConv1x1, LayerLinear, LayerNorm, LayerResample, LayerPaint}
}

// A Recorder is told the cost of eval-mode forward passes
// (Options.Profile): of each layer, its type (LayerTypes), wall time and
// floating-point operations counted from the shapes (a convolution
// 2*F*C*KH*KW*OutH*OutW*N, as computed directly: Winograd, where nn uses
// it, multiplies less; a linear layer 2*In*Out*Rows; 0 for the types that
// make no products), and of each whole pass. Passes on a tape tell it
// nothing. Package bench's Profile is one.
type Recorder interface {
	Layer(layer string, d time.Duration, flops int64)
	Pass(d time.Duration)
}

// layer is a layer type, one of the Layer constants.
type layer = string

const (
	conv3x3     = LayerConv3x3
	conv1x1     = LayerConv1x1
	linearLayer = LayerLinear
	normLayer   = LayerNorm
	resample    = LayerResample
	paint       = LayerPaint
)

// profiler tells a Recorder of the layers of a pass. A nil *profiler
// records nothing and costs one pointer comparison per layer.
type profiler struct{ r Recorder }

// newProfiler is nil without a Recorder.
func newProfiler(r Recorder) *profiler {
	if r == nil {
		return nil
	}
	return &profiler{r}
}

// start returns the time a layer starts, the zero time for a nil profiler.
func (p *profiler) start() time.Time {
	if p == nil {
		return time.Time{}
	}
	return time.Now()
}

// add charges the time since t0 and flops to a layer type.
func (p *profiler) add(l layer, t0 time.Time, flops int64) {
	if p == nil {
		return
	}
	p.r.Layer(l, time.Since(t0), flops)
}

// pass charges one whole forward pass that started at t0.
func (p *profiler) pass(t0 time.Time) {
	if p == nil {
		return
	}
	p.r.Pass(time.Since(t0))
}

// addConv charges a convolution of shape s that started at t0.
func (p *profiler) addConv(t0 time.Time, s nn.ConvShape) {
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
