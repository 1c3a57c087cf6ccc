package train

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
)

// One training iteration (generator forward and backward, both
// discriminators on fakes and reals, three Adam steps) on a synthetic
// batch of 8 64x64 images with 6 objects each plus __image__, random
// weights. The quarter-width variant divides every width by four; the demo
// variant is `make train-demo`'s network and losses, and demo1 the first
// demo recipe's (the figures in docs/speed.md before the second recipe).
// bench/train_step.py
// builds the same networks in PyTorch; `make bench-train` compares the
// two, matching the parameter counts logged here.
func BenchmarkTrainStep_B8_64x64(b *testing.B)         { benchTrainStep(b, DefaultConfig()) }
func BenchmarkTrainStep_B8_64x64_Quarter(b *testing.B) { benchTrainStep(b, quarterConfig()) }
func BenchmarkTrainStep_B8_64x64_Demo(b *testing.B)    { benchTrainStep(b, demoConfig()) }
func BenchmarkTrainStep_B8_64x64_Demo1(b *testing.B)   { benchTrainStep(b, demo1Config()) }

// quarterConfig is the release's defaults at a quarter of the widths.
func quarterConfig() Config {
	c := DefaultConfig()
	c.EmbeddingDim, c.GconvDim, c.GconvHiddenDim = 32, 32, 128
	c.RefinementDims = []int{256, 128, 64, 32, 16}
	c.DObjArch, c.DImgArch = "C4-16-2,C4-32-2,C4-64-2", "C4-16-2,C4-32-2,C4-64-2"
	return c
}

// demoConfig is the Makefile's train-demo flags (the bench's vocabulary
// stands in for the world dataset's): the second recipe, with appearance
// vectors, sigmoid boxes and instance embeddings.
func demoConfig() Config {
	c := demo1Config()
	c.GconvHiddenDim = 128
	c.RefinementDims = []int{128, 128, 64, 32, 16}
	c.AppearanceDim, c.AppearanceKLWeight, c.BoxSigmoid, c.InstanceEmbeddings = 8, 0.01, true, 4
	c.BoxBiasInit = []float64{0.25, 0.25, 0.75, 0.75}
	return c
}

// demo1Config is the first demo recipe's flags (train-demo before the
// second recipe).
func demo1Config() Config {
	c := DefaultConfig()
	c.EmbeddingDim, c.GconvDim, c.GconvHiddenDim, c.GconvNumLayers = 64, 64, 256, 3
	c.RefinementDims = []int{256, 128, 64, 32, 16}
	c.LayoutNoiseDim, c.MaskSize, c.CropSize = 16, 16, 32
	c.DObjArch, c.DImgArch = "C4-32-2,C4-64-2,C4-128-2", "C4-32-2,C4-64-2,C4-128-2"
	c.LearningRate, c.MaskLossWeight = 3e-4, 1
	return c
}

// benchObjects is the number of real objects per synthetic image.
const benchObjects = 6

func benchTrainStep(b *testing.B, c Config) {
	const N = 8
	c.BatchSize = N
	var names []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("thing%d", i))
	}
	vocab := model.NewVocab(names, []string{"left of", "right of", "above", "below", "inside", "surrounding"})
	g, err := model.New(c.ModelConfig(vocab))
	if err != nil {
		b.Fatal(err)
	}
	g.InitRandom(1)
	if b := c.BoxBiasInit; len(b) == 4 {
		g.SetBoxBias([4]float32{float32(b[0]), float32(b[1]), float32(b[2]), float32(b[3])})
	}
	dc, _ := c.DImgConfig()
	dImg, err := model.NewImageDiscriminator(dc)
	if err != nil {
		b.Fatal(err)
	}
	dImg.InitRandom(2)
	oc, _ := c.DObjConfig()
	dObj, err := model.NewObjectDiscriminator(oc, len(vocab.ObjectIdxToName))
	if err != nil {
		b.Fatal(err)
	}
	dObj.InitRandom(3)
	tr, err := NewTrainer(c.StepConfig(), g, dImg, dObj)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("params: generator=%d d_obj=%d d_img=%d", numParams(g.Params()), numParams(dObj.Params()), numParams(dImg.Params()))
	in := syntheticStep(c, vocab, N)
	step := func(seed uint64) {
		in.Seed = seed
		res, err := tr.Step(in, true)
		if err != nil {
			b.Fatal(err)
		}
		if res.Skipped {
			b.Fatal("step skipped")
		}
	}
	// One untimed step, as the PyTorch script warms up: the first step
	// grows the heap, which a long training run pays once.
	step(1 << 32)
	var ms []float64
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		step(uint64(i))
		ms = append(ms, float64(time.Since(start).Nanoseconds())/1e6)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "it/s")
	// Per-step median and minimum, as the PyTorch script prints them.
	slices.Sort(ms)
	b.ReportMetric(ms[len(ms)/2], "median-ms")
	b.ReportMetric(ms[0], "min-ms")
	// The process's peak resident memory, as bench/train_step.py reports
	// its own (ru_maxrss, KiB on Linux).
	if kib, ok := peakRSSKiB(); ok {
		b.ReportMetric(float64(kib)/1024, "peak-MiB")
	}
}

func numParams(ps []model.Named) int {
	n := 0
	for _, p := range ps {
		n += p.T.Numel()
	}
	return n
}

// syntheticStep makes a batch of n images of benchObjects random boxes
// with full masks, each object related to the next, then __image__.
func syntheticStep(c Config, v *model.Vocab, n int) *StepInput {
	rng := rand.New(rand.NewPCG(1, 2))
	H, W, M := c.ImageSize[0], c.ImageSize[1], c.MaskSize
	per := benchObjects + 1
	O := n * per
	in := &StepInput{Batch: &model.Batch{NumImages: n}, Images: nn.New(n, 3, H, W), Boxes: nn.New(O, 4)}
	if M > 0 {
		in.Masks = nn.New(O, M, M)
		for i := range in.Masks.Data {
			in.Masks.Data[i] = 1
		}
	}
	for i := range in.Images.Data {
		in.Images.Data[i] = float32(rng.NormFloat64())
	}
	imageID := v.ObjectNameToIdx[model.ImageObject]
	for img := 0; img < n; img++ {
		base := img * per
		for k := 0; k < per; k++ {
			o := base + k
			box := in.Boxes.Data[4*o : 4*o+4]
			if k == benchObjects {
				in.Batch.Objs = append(in.Batch.Objs, imageID)
				copy(box, []float32{0, 0, 1, 1})
			} else {
				in.Batch.Objs = append(in.Batch.Objs, 1+rng.IntN(len(v.ObjectIdxToName)-1))
				x, y := rng.Float32()*0.6, rng.Float32()*0.6
				copy(box, []float32{x, y, x + 0.1 + 0.3*rng.Float32(), y + 0.1 + 0.3*rng.Float32()})
				in.Batch.Triples = append(in.Batch.Triples, [3]int{o, 1 + rng.IntN(len(v.PredIdxToName)-1), base + (k+1)%benchObjects})
				in.Batch.Triples = append(in.Batch.Triples, [3]int{o, 0, base + benchObjects})
			}
			in.Batch.ObjToImg = append(in.Batch.ObjToImg, img)
		}
	}
	return in
}
