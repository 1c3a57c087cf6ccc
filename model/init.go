package model

import (
	"math"
	"math/rand/v2"
	"strings"
)

// InitRandom initialises the generator as the release does before
// training: embeddings N(0, 1); graph-convolution Linears and CRN
// convolutions Kaiming-normal N(0, 2/fan_in) with default biases; every
// other Linear and Conv weight and bias uniform in ±1/sqrt(fan_in); batch
// norms the identity with fresh running statistics.
func (g *Generator) InitRandom(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x1417))
	fanIn := fanIns(g.reg.params)
	for _, p := range g.reg.params {
		prefix, kind, _ := cutLast(p.Name)
		data := p.T.Data
		switch {
		case strings.HasSuffix(p.Name, "_embeddings.weight"):
			for i := range data {
				data[i] = float32(rng.NormFloat64())
			}
		case fanIn[prefix] == 0: // batch norm
			fill := float32(0)
			if kind == "weight" {
				fill = 1
			}
			for i := range data {
				data[i] = fill
			}
		case kind == "weight" && kaimingInit(p.Name):
			std := math.Sqrt(2 / float64(fanIn[prefix]))
			for i := range data {
				data[i] = float32(rng.NormFloat64() * std)
			}
		default:
			bound := 1 / math.Sqrt(float64(fanIn[prefix]))
			for i := range data {
				data[i] = float32((2*rng.Float64() - 1) * bound)
			}
		}
	}
	resetBuffers(g.reg.buffers)
}

// InitRandom initialises the image discriminator as PyTorch's defaults do
// (see initDiscriminator).
func (d *ImageDiscriminator) InitRandom(seed uint64) { initDiscriminator(&d.reg, seed) }

// InitRandom initialises the object discriminator as PyTorch's defaults
// do (see initDiscriminator).
func (d *ObjectDiscriminator) InitRandom(seed uint64) { initDiscriminator(&d.reg, seed) }

// initDiscriminator initialises a discriminator's parameters as PyTorch's
// defaults do (the release applies no other initialisation to them):
// Linear and Conv weights and biases uniform in ±1/sqrt(fan_in), where
// fan_in is the weight's size over its first dimension; batch norms the
// identity with fresh running statistics (spec section 7).
func initDiscriminator(r *registry, seed uint64) {
	// The second PCG word separates this stream from the generator's.
	rng := rand.New(rand.NewPCG(seed, 0xd15c))
	fanIn := fanIns(r.params)
	for _, p := range r.params {
		prefix, kind, _ := cutLast(p.Name)
		n := fanIn[prefix]
		for j := range p.T.Data {
			switch {
			case n > 0:
				bound := 1 / math.Sqrt(float64(n))
				p.T.Data[j] = float32((2*rng.Float64() - 1) * bound)
			case kind == "weight": // batch norm
				p.T.Data[j] = 1
			default:
				p.T.Data[j] = 0
			}
		}
	}
	resetBuffers(r.buffers)
}

// fanIns are the fan-ins of the modules by prefix, from their weights:
// a weight's size over its first dimension.
func fanIns(params []Named) map[string]int {
	fanIn := map[string]int{}
	for _, p := range params {
		if strings.HasSuffix(p.Name, ".weight") && len(p.T.Shape) >= 2 {
			fanIn[strings.TrimSuffix(p.Name, ".weight")] = p.T.Numel() / p.T.Shape[0]
		}
	}
	return fanIn
}

// resetBuffers gives batch norms fresh running statistics: means 0,
// variances 1.
func resetBuffers(buffers []Named) {
	for _, b := range buffers {
		fill := float32(0)
		if strings.HasSuffix(b.Name, ".running_var") {
			fill = 1
		}
		for i := range b.T.Data {
			b.T.Data[i] = fill
		}
	}
}

// kaimingInit reports whether the release re-initialises a weight with
// Kaiming-normal: the graph-convolution MLPs and the CRN's convolutions.
func kaimingInit(name string) bool {
	return strings.Contains(name, ".net1.") || strings.Contains(name, ".net2.") ||
		strings.HasPrefix(name, "refinement_net.")
}

func cutLast(name string) (prefix, last string, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return "", name, false
	}
	return name[:i], name[i+1:], true
}

// SetBoxBias sets the bias of the box net's last Linear. The release ends
// the box net in a ReLU; a bias inside the image (e.g. 0.25, 0.25, 0.75,
// 0.75) keeps those output units alive early in training, where PyTorch's
// default initialisation can let an early step drive one below zero for
// every input and stop it learning.
//
// With BoxSigmoid the bias is the logit of b, so that the initial boxes
// are b again.
func (g *Generator) SetBoxBias(b [4]float32) {
	last := g.boxNet.lins[len(g.boxNet.lins)-1]
	if g.Config.BoxSigmoid {
		for i, v := range b {
			v = min(max(v, 1e-3), 1-1e-3)
			b[i] = float32(math.Log(float64(v) / float64(1-v)))
		}
	}
	copy(last.B.Value.Data, b[:])
}
