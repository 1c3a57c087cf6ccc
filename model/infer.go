package model

import (
	"math"
	"sync"

	"github.com/sg2im-go/sg2im/nn"
)

// The fused inference paths: with no tape and in eval mode, the mask net
// and the CRN run these instead of the op-by-op forward that training
// records. TestForwardEvalMatchesTape holds them to the same results.

// forwardEval is maskNet.forward for inference: each block's upsampling
// and batch norm are applied while the convolution reads its input
// (nn.ConvInput), its bias and ReLU while it writes its output
// (nn.Epilogue), and the objects make one product per block. prof, when
// set, records each convolution and the sigmoid.
func (m *maskNet) forwardEval(prof *profiler, vecs *nn.Tensor) *nn.Tensor {
	O, D := vecs.Shape[0], vecs.Shape[1]
	x, side := vecs.Data, 1
	for i, cv := range m.convs {
		t0 := prof.start()
		side *= 2
		scale, shift := bnAffine(m.bns[i])
		out := make([]float32, O*D*side*side)
		ins := []nn.ConvInput{{Data: x, C: D, Up: 2, Scale: scale, Shift: shift}}
		s := convShape(cv, O, side, side)
		nn.Conv2dInputs(out, ins, cv.W.Value.Data, s, &nn.Epilogue{Shift: cv.B.Value.Data, Act: true})
		x = out
		prof.addConv(t0, s)
	}
	t0 := prof.start()
	logits := nn.New(O, 1, side, side)
	ins := []nn.ConvInput{{Data: x, C: D}}
	s := convShape(m.final, O, side, side)
	nn.Conv2dInputs(logits.Data, ins, m.final.W.Value.Data, s, &nn.Epilogue{Shift: m.final.B.Value.Data})
	prof.addConv(t0, s)
	t0 = prof.start()
	masks := nn.Sigmoid(logits).Reshape(O, side, side)
	prof.add(paint, t0, 0)
	return masks
}

// forwardEval is crn.forward for inference (no tape, eval mode), with the
// same arithmetic regrouped for speed: each convolution reads the
// concatenation of the pooled layout parts and the upsampled features in
// place (nn.Conv2dInputs) and applies its bias, eval-mode batch norm and
// LeakyReLU to each output tile while it is in cache (nn.Epilogue); the
// intermediate features live in two pooled buffers, so a pass makes no
// large garbage. Instance norm, which needs statistics of the whole
// output, runs unfused. The layout is given as parts (N, Ci, H, W) to
// concatenate along the channels. prof, when set, records each layer.
func (c crn) forwardEval(prof *profiler, layout ...*nn.Tensor) *nn.Tensor {
	N, H, W := layout[0].Shape[0], layout[0].Shape[2], layout[0].Shape[3]
	bufs := crnBufs.Get().(*crnBuffers)
	defer crnBufs.Put(bufs)
	k := len(c.mods)
	h, w := H>>k, W>>k
	feats := nn.ConvInput{Data: make([]float32, N*h*w), C: 1, Up: 2} // zeros
	for _, m := range c.mods {
		h, w = 2*h, 2*w
		var ins []nn.ConvInput
		t0 := prof.start()
		for _, part := range layout {
			if f := H / h; f > 1 {
				part = nn.AvgPool2d(part, f)
			}
			ins = append(ins, nn.ConvInput{Data: part.Data, C: part.Shape[1]})
		}
		prof.add(resample, t0, 0)
		ins = append(ins, feats)
		x := c.conv(prof, &bufs.a, m.conv1, m.norm1, ins, N, h, w)
		f := c.conv(prof, &bufs.b, m.conv2, m.norm2, []nn.ConvInput{{Data: x, C: m.conv1.W.Value.Shape[0]}}, N, h, w)
		feats = nn.ConvInput{Data: f, C: m.conv2.W.Value.Shape[0], Up: 2}
	}
	feats.Up = 1
	x := c.conv(prof, &bufs.a, c.out1, norm2d{kind: "none"}, []nn.ConvInput{feats}, N, H, W)
	t0 := prof.start()
	img := nn.New(N, c.out2.W.Value.Shape[0], H, W)
	ins := []nn.ConvInput{{Data: x, C: c.out1.W.Value.Shape[0]}}
	s := convShape(c.out2, N, H, W)
	nn.Conv2dInputs(img.Data, ins, c.out2.W.Value.Data, s, &nn.Epilogue{Shift: c.out2.B.Value.Data})
	prof.addConv(t0, s)
	return img
}

// crnBuffers are the two feature buffers of forwardEval, reused across
// passes.
type crnBuffers struct{ a, b []float32 }

var crnBufs = sync.Pool{New: func() any { return new(crnBuffers) }}

// conv runs cv over the inputs (N images of h x w) with its norm and the
// CRN's LeakyReLU into *buf, grown as needed, and returns the output.
func (c crn) conv(prof *profiler, buf *[]float32, cv conv, norm norm2d, ins []nn.ConvInput, N, h, w int) []float32 {
	t0 := prof.start()
	s := convShape(cv, N, h, w)
	size := N * s.F * s.OutH * s.OutW
	if cap(*buf) < size {
		*buf = make([]float32, size)
	}
	out := (*buf)[:size]
	epi := &nn.Epilogue{Shift: cv.B.Value.Data, Act: true, Slope: c.slope}
	switch norm.kind {
	case "batch":
		epi.Scale, epi.Shift = foldBatchNorm(cv.B.Value.Data, norm.bn)
	case "instance":
		epi.Act = false
	}
	nn.Conv2dInputs(out, ins, cv.W.Value.Data, s, epi)
	prof.addConv(t0, s)
	if norm.kind == "instance" {
		t0 := prof.start()
		t := nn.FromData(out, N, s.F, s.OutH, s.OutW)
		copy(out, nn.LeakyReLU(nn.InstanceNorm(t, instanceEps), c.slope).Data)
		prof.add(normLayer, t0, 0)
	}
	return out
}

// convShape is the shape of cv over N images of h x w.
func convShape(cv conv, N, h, w int) nn.ConvShape {
	ws := cv.W.Value.Shape
	return nn.NewConvShape(&nn.Tensor{Shape: []int{N, ws[1], h, w}}, cv.W.Value, cv.stride, cv.pad)
}

// bnAffine returns the per-channel scale and shift of an eval-mode batch
// norm, x*scale + shift, computed as nn.BatchNormEval does.
func bnAffine(bn *batchNorm) (scale, shift []float32) {
	n := len(bn.Mean.Data)
	scale, shift = make([]float32, n), make([]float32, n)
	for i := range n {
		inv := float32(1 / math.Sqrt(float64(bn.Var.Data[i]+bnEps)))
		scale[i] = bn.W.Value.Data[i] * inv
		shift[i] = bn.B.Value.Data[i] - bn.Mean.Data[i]*scale[i]
	}
	return scale, shift
}

// foldBatchNorm returns the per-channel scale and shift that apply a
// convolution's bias and then an eval-mode batch norm:
// (y + bias)*scale + shift = y*scale + (bias*scale + shift).
func foldBatchNorm(bias []float32, bn *batchNorm) (scale, shift []float32) {
	scale, shift = bnAffine(bn)
	for i, b := range bias {
		shift[i] += b * scale[i]
	}
	return scale, shift
}
