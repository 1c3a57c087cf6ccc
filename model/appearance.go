package model

import (
	"math/rand/v2"
	"sort"

	"github.com/sg2im-go/sg2im/nn"
)

// The appearance encoder (Config.AppearanceDim): object crops of
// appearanceCrop pixels, two stride-2 convolutions of appearanceWidths
// channels with LeakyReLU(0.2), a global average and a Linear to the mean
// and log-variance of z.
const appearanceCrop = 16

var appearanceWidths = [2]int{32, 64}

// appearanceParams counts the encoder's values for a z of width A.
func appearanceParams(A int) int {
	c1, c2 := appearanceWidths[0], appearanceWidths[1]
	return 3*c1*9 + c1 + c1*c2*9 + c2 + c2*2*A + 2*A
}

type appearanceEncoder struct {
	conv1, conv2 conv
	fc           linear
	dim          int
}

func (r *registry) appearanceEncoder(A int) *appearanceEncoder {
	c1, c2 := appearanceWidths[0], appearanceWidths[1]
	return &appearanceEncoder{
		conv1: r.conv("appearance_encoder.conv1", 3, c1, 3, 2, 1),
		conv2: r.conv("appearance_encoder.conv2", c1, c2, 3, 2, 1),
		fc:    r.linear("appearance_encoder.fc", c2, 2*A),
		dim:   A,
	}
}

// EncodeAppearance maps the objects of real images (N, 3, H, W) at boxes
// (O, 4) to the mean and log-variance (O, AppearanceDim) of their
// appearance vectors, recording on tp. The model must have
// AppearanceDim > 0.
func (g *Generator) EncodeAppearance(tp *nn.Tape, images, boxes *nn.Tensor, objToImg []int) (mu, logvar *nn.Var) {
	e := g.appEnc
	if e == nil {
		panic("model: EncodeAppearance on a model without appearance vectors")
	}
	p := pass{tp: tp, train: true}
	x := cropBoxes(nil, nn.Const(images), boxes, objToImg, appearanceCrop)
	x = tp.LeakyReLU(e.conv1.forward(p, x), 0.2)
	x = tp.LeakyReLU(e.conv2.forward(p, x), 0.2)
	x = e.fc.forward(p, tp.GlobalAvgPool(x))
	return tp.SliceCols(x, 0, e.dim), tp.SliceCols(x, e.dim, 2*e.dim)
}

// AppearanceNoise draws the appearance vectors (O, a) of inference: the
// objects of image i, in order, from one standard normal stream of
// seed+i (another stream than Noise's), so that an image depends only on
// its own seed whatever batch it is drawn in.
func AppearanceNoise(seed uint64, objToImg []int, numImages, a int) *nn.Tensor {
	t := nn.New(len(objToImg), a)
	rngs := make([]*rand.Rand, numImages)
	for o, img := range objToImg {
		if rngs[img] == nil {
			rngs[img] = rand.New(rand.NewPCG(seed+uint64(img), 0xa99ea5))
		}
		for j := range a {
			t.Data[o*a+j] = float32(rngs[img].NormFloat64())
		}
	}
	return t
}

// InstanceIndex is each object's rank among the objects of its category
// in its graph, capped at k-1. With boxes (O, 4) the rank follows the
// boxes' centres from left to right (training, where the true boxes say
// which instance is which); without, the graph's own order ("flower"
// before "flower#2").
func InstanceIndex(b *Batch, boxes *nn.Tensor, k int) []int {
	type key struct{ img, obj int }
	groups := map[key][]int{}
	var order []key
	for o, id := range b.Objs {
		kk := key{b.ObjToImg[o], id}
		if _, ok := groups[kk]; !ok {
			order = append(order, kk)
		}
		groups[kk] = append(groups[kk], o)
	}
	idx := make([]int, len(b.Objs))
	for _, kk := range order {
		members := groups[kk]
		if boxes != nil {
			cx := func(o int) float32 { return boxes.Data[4*o] + boxes.Data[4*o+2] }
			sort.SliceStable(members, func(i, j int) bool { return cx(members[i]) < cx(members[j]) })
		}
		for rank, o := range members {
			idx[o] = min(rank, k-1)
		}
	}
	return idx
}

// lookStream tells an object's own appearance stream (ObjectAppearance)
// from the image streams of AppearanceNoise.
const lookStream = 0x10c5eed

// ObjectAppearance draws one object's appearance vector of width a from
// its own seed: an editor's "new look" for that object alone, whatever
// the image's seed and the other objects.
func ObjectAppearance(seed uint64, a int) []float32 {
	r := rand.New(rand.NewPCG(seed, lookStream))
	z := make([]float32, a)
	for j := range z {
		z[j] = float32(r.NormFloat64())
	}
	return z
}

// AppearanceWithLooks is the appearance vectors (O, AppearanceDim) of an
// eval-mode pass with seed: as Forward draws them, except that an object o
// with looks[o] set takes ObjectAppearance(*looks[o]) instead; the others
// keep theirs. Both are scaled by Config.AppearanceScale. looks has one
// entry per object of b (nil: the image's draw). It returns nil for a
// model without appearance vectors.
func (g *Generator) AppearanceWithLooks(seed uint64, b *Batch, looks []*uint64) *nn.Tensor {
	A := g.Config.AppearanceDim
	if A == 0 {
		return nil
	}
	t := AppearanceNoise(seed, b.ObjToImg, b.NumImages, A)
	for o, s := range looks {
		if s != nil && o < len(b.ObjToImg) {
			copy(t.Data[o*A:(o+1)*A], ObjectAppearance(*s, A))
		}
	}
	if sc := float32(g.Config.AppearanceScale); sc != 0 && sc != 1 {
		for i := range t.Data {
			t.Data[i] *= sc
		}
	}
	return t
}
