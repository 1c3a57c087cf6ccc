package train

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/sg2im-go/sg2im/model"
)

// InitDiscriminator initialises a discriminator's parameters as PyTorch's
// defaults do (the release applies no other initialisation to them):
// Linear and Conv weights and biases uniform in ±1/sqrt(fan_in), where
// fan_in is the weight's size over its first dimension; batch norms the
// identity with fresh running statistics (spec section 7).
func InitDiscriminator(params, buffers []model.Named, seed uint64) {
	// The second PCG word separates this stream from the generator's.
	rng := rand.New(rand.NewPCG(seed, 0xd15c))
	fanIn := map[string]int{}
	for _, p := range params {
		if strings.HasSuffix(p.Name, ".weight") && len(p.T.Shape) >= 2 {
			fanIn[strings.TrimSuffix(p.Name, ".weight")] = p.T.Numel() / p.T.Shape[0]
		}
	}
	for _, p := range params {
		i := strings.LastIndexByte(p.Name, '.')
		prefix, kind := p.Name[:max(i, 0)], p.Name[i+1:]
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
	for _, b := range buffers {
		fill := float32(0)
		if strings.HasSuffix(b.Name, ".running_var") {
			fill = 1
		}
		for j := range b.T.Data {
			b.T.Data[j] = fill
		}
	}
}
