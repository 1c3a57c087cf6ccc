package eval

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/data/world"
	"github.com/sg2im-go/sg2im/nn"
)

// TrainOptions configure TrainClassifier. Start from DefaultTrainOptions.
type TrainOptions struct {
	// Seed is the world seed of the scenes (training scenes 0..Scenes-1,
	// held-out scenes 0..Heldout-1 of the held-out range) and seeds the
	// weights, the shuffling and the augmentation.
	Seed    uint64
	Scenes  int // training scenes; every object of each is a crop
	Heldout int // held-out scenes the accuracy is measured on, per size
	// ImageSizes are the sides the scenes are rendered at, scene i at
	// ImageSizes[i % len], so that the classifier knows objects at the
	// resolutions of smaller models too. The held-out accuracy is reported
	// at each size; the first is the main one.
	ImageSizes []int
	Epochs     int     // passes over the training crops
	BatchSize  int     // crops a step
	LR         float64 // Adam's learning rate at the start, cosine-decayed to 0
	// Jitter moves each box edge by up to this share of the box's side
	// (uniformly), and half the crops are mirrored, so that the classifier
	// does not depend on pixel-exact boxes.
	Jitter float64
	Log    io.Writer // progress, one line an epoch; nil for none
}

// DefaultTrainOptions train the shipped classifier: 1600 scenes, half at
// 64x64 and half at 32x32 (about 10,800 crops), 6 epochs of batches of 32,
// held-out accuracy on 300 scenes (about 2,000 crops) at each size. It
// takes about two minutes of one CPU core.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Scenes: 1600, Heldout: 300, ImageSizes: []int{64, 32}, Epochs: 6, BatchSize: 32, LR: 2e-3, Jitter: 0.08}
}

// TrainInfo records how a classifier was trained and how well it does; it
// is stored in the classifier file.
type TrainInfo struct {
	WorldSeed     uint64  `json:"world_seed"`
	ImageSizes    []int   `json:"image_sizes"`
	Scenes        int     `json:"scenes"`
	Crops         int     `json:"crops"`
	Epochs        int     `json:"epochs"`
	BatchSize     int     `json:"batch_size"`
	LR            float64 `json:"learning_rate"`
	Jitter        float64 `json:"jitter"`
	TrainAccuracy float64 `json:"train_accuracy"` // on the training crops, exact boxes
	HeldoutScenes int     `json:"heldout_scenes"`
	HeldoutCrops  int     `json:"heldout_crops"`
	// HeldoutAccuracy is the top-1 accuracy on crops of held-out real
	// scenes at their true boxes, at ImageSizes[0]: the ceiling of
	// recognisability; PerClass the same by class.
	HeldoutAccuracy float64            `json:"heldout_accuracy"`
	PerClass        map[string]float64 `json:"heldout_per_class"`
	// HeldoutBySize is the held-out accuracy at each image size.
	HeldoutBySize map[string]float64 `json:"heldout_accuracy_by_size"`
	Seconds       float64            `json:"seconds"`
}

// cropSet is every object of some rendered scenes: the images and, per
// object, its scene, box and class.
type cropSet struct {
	images []*nn.Tensor // (1, 3, S, S), ImageNet-normalised
	scene  []int
	boxes  [][4]float32
	labels []int
}

// worldCrops renders n world scenes (held-out ones if heldout), scene i
// at sizes[i % len(sizes)] pixels a side, and lists their objects,
// labelled by the classifier's class names.
func worldCrops(seed uint64, n int, sizes []int, heldout bool, classes []string) (*cropSet, error) {
	var worlds []*world.World
	for _, size := range sizes {
		opts := world.DefaultOptions()
		opts.Seed, opts.N, opts.ImageSize, opts.MaskSize, opts.Heldout = seed, max(n, 1), size, 0, heldout
		w, err := world.New(opts)
		if err != nil {
			return nil, err
		}
		worlds = append(worlds, w)
	}
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	cs := &cropSet{}
	for i := 0; i < n; i++ {
		sc, err := worlds[i%len(worlds)].Scene(i)
		if err != nil {
			return nil, err
		}
		cs.images = append(cs.images, data.ImageTensor(sc.Pix, sc.Size, sc.Size, true).Reshape(1, 3, sc.Size, sc.Size))
		for _, o := range sc.Objects {
			k, ok := index[o.Name]
			if !ok {
				return nil, fmt.Errorf("eval: the classifier has no class %q", o.Name)
			}
			cs.scene = append(cs.scene, i)
			cs.boxes = append(cs.boxes, o.Box)
			cs.labels = append(cs.labels, k)
		}
	}
	return cs, nil
}

// crops samples the objects idx into (len(idx), 3, S, S), each box moved
// by box(k) first when box is not nil.
func (cs *cropSet) crops(idx []int, S int, box func(k int) [4]float32) *nn.Tensor {
	out := nn.New(len(idx), 3, S, S)
	grid := nn.New(1, S, S, 2)
	for r, k := range idx {
		b := cs.boxes[k]
		if box != nil {
			b = box(k)
		}
		cropInto(out.Data[r*3*S*S:(r+1)*3*S*S], cs.images[cs.scene[k]], b, grid)
	}
	return out
}

// accuracy is the classifier's top-1 accuracy on the set's crops at their
// exact boxes, overall and per class name (classes absent from the set are
// left out).
func (cs *cropSet) accuracy(c *Classifier) (float64, map[string]float64) {
	idx := make([]int, len(cs.labels))
	for i := range idx {
		idx[i] = i
	}
	pred := c.Predict(cs.crops(idx, c.Config.CropSize, nil))
	right, n := make([]int, len(c.Config.Classes)), make([]int, len(c.Config.Classes))
	total := 0
	for i, p := range pred {
		n[cs.labels[i]]++
		if p == cs.labels[i] {
			right[cs.labels[i]]++
			total++
		}
	}
	per := map[string]float64{}
	for k, name := range c.Config.Classes {
		if n[k] > 0 {
			per[name] = float64(right[k]) / float64(n[k])
		}
	}
	return float64(total) / float64(max(len(pred), 1)), per
}

// WorldClasses are the classes of the world classifier: the world's
// categories without __image__, in id order.
func WorldClasses() []string { return world.Categories()[1:] }

// TrainClassifier trains a classifier of the default architecture on crops
// of real training scenes of the world, with Adam on our own autograd,
// and measures it on crops of held-out scenes. The result is a pure
// function of the options (and of the nn kernels' arithmetic).
func TrainClassifier(o TrainOptions) (*Classifier, *TrainInfo, error) {
	if o.Scenes < 1 || o.Heldout < 1 || len(o.ImageSizes) == 0 || o.Epochs < 1 || o.BatchSize < 1 || !(o.LR > 0) || o.Jitter < 0 || o.Jitter > 0.5 {
		return nil, nil, fmt.Errorf("eval: bad classifier training options %+v", o)
	}
	start := time.Now()
	logf := func(format string, a ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format, a...)
		}
	}
	c, err := NewClassifier(DefaultClassifierConfig(WorldClasses()))
	if err != nil {
		return nil, nil, err
	}
	c.InitRandom(o.Seed)
	train, err := worldCrops(o.Seed, o.Scenes, o.ImageSizes, false, c.Config.Classes)
	if err != nil {
		return nil, nil, err
	}
	var held []*cropSet // per size
	for _, size := range o.ImageSizes {
		cs, err := worldCrops(o.Seed, o.Heldout, []int{size}, true, c.Config.Classes)
		if err != nil {
			return nil, nil, err
		}
		held = append(held, cs)
	}
	logf("classifier: %d training crops from %d scenes of %v pixels, %d held-out crops from %d scenes (%.1fs)\n",
		len(train.labels), o.Scenes, o.ImageSizes, len(held[0].labels), o.Heldout, time.Since(start).Seconds())

	rng := rand.New(rand.NewPCG(o.Seed, 0x7a1e))
	jitter := func(k int) [4]float32 {
		b := train.boxes[k]
		w, h := b[2]-b[0], b[3]-b[1]
		j := func(side float32) float32 { return float32((2*rng.Float64()-1)*o.Jitter) * side }
		b = [4]float32{b[0] + j(w), b[1] + j(h), b[2] + j(w), b[3] + j(h)}
		if rng.IntN(2) == 1 { // mirror: sample x from right to left
			b[0], b[2] = b[2], b[0]
		}
		return b
	}
	opt := nn.NewAdam(c.Params(), o.LR)
	N := len(train.labels)
	steps := o.Epochs * ((N + o.BatchSize - 1) / o.BatchSize)
	step := 0
	for epoch := 0; epoch < o.Epochs; epoch++ {
		perm := rng.Perm(N)
		var lossSum float64
		batches := 0
		for lo := 0; lo < N; lo += o.BatchSize {
			idx := perm[lo:min(lo+o.BatchSize, N)]
			labels := make([]int, len(idx))
			for r, k := range idx {
				labels[r] = train.labels[k]
			}
			// Cosine decay of the learning rate over the whole run.
			opt.LR = o.LR * 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(steps)))
			tp := nn.NewTape()
			loss := tp.CrossEntropy(c.Logits(tp, nn.Const(train.crops(idx, c.Config.CropSize, jitter))), labels)
			opt.ZeroGrad()
			tp.Backward(loss)
			opt.Step()
			lossSum += float64(loss.Value.Data[0])
			batches++
			step++
		}
		acc, _ := held[0].accuracy(c)
		logf("classifier: epoch %d/%d: loss %.4f, held-out accuracy %.4f at %dx%[5]d (%.0fs)\n",
			epoch+1, o.Epochs, lossSum/float64(batches), acc, o.ImageSizes[0], time.Since(start).Seconds())
	}
	info := &TrainInfo{
		WorldSeed: o.Seed, ImageSizes: o.ImageSizes, Scenes: o.Scenes, Crops: N,
		Epochs: o.Epochs, BatchSize: o.BatchSize, LR: o.LR, Jitter: o.Jitter,
		HeldoutScenes: o.Heldout, HeldoutCrops: len(held[0].labels), HeldoutBySize: map[string]float64{},
	}
	info.TrainAccuracy, _ = train.accuracy(c)
	info.HeldoutAccuracy, info.PerClass = held[0].accuracy(c)
	for i, size := range o.ImageSizes {
		acc, _ := held[i].accuracy(c)
		info.HeldoutBySize[fmt.Sprint(size)] = round4(acc)
	}
	info.Seconds = math.Round(time.Since(start).Seconds()*10) / 10
	return c, info, nil
}

// HeldoutAccuracy is the classifier's top-1 accuracy on every object of
// held-out world scenes 0..scenes-1 (world seed seed, imageSize pixels a
// side), cropped at the true boxes: the real-crop ceiling of
// recognisability; also per class.
func HeldoutAccuracy(c *Classifier, seed uint64, scenes, imageSize int) (float64, map[string]float64, error) {
	cs, err := worldCrops(seed, scenes, []int{imageSize}, true, c.Config.Classes)
	if err != nil {
		return 0, nil, err
	}
	acc, per := cs.accuracy(c)
	return acc, per, nil
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
