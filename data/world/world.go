package world

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/model"
)

// HeldoutBase is the first scene key of the held-out range: training
// scenes have keys 0 <= i < HeldoutBase (Len is capped there) and held-out
// scenes (Options.Heldout) have keys HeldoutBase + i, so no seed makes a
// training scene equal to a held-out one.
const HeldoutBase = 1 << 40

// sceneSalt separates scene streams from the loader's streams of the same
// seed (an arbitrary odd 64-bit constant).
const sceneSalt = 0x6a09e667f3bcc909

// Options configure a World. Start from DefaultOptions: the zero value of a
// size or bool is not the default.
type Options struct {
	Seed uint64 // scene i is drawn from (Seed, i) alone
	// N is Len, the number of scenes an epoch visits (1..HeldoutBase). The
	// loader shuffles 0..N-1 every epoch, so N costs 8 bytes a scene then.
	N         int
	ImageSize int // side of the square images, 16..256 (64 by default)
	// MaskSize M of the object masks; 0 gives no masks (the geometric rule
	// then uses box centres).
	MaskSize int
	// MaxObjects bounds the objects of a scene, stuff included and
	// __image__ not (the release's COCO images have 3..8), 3..30.
	MaxObjects int
	Normalize  bool // ImageNet normalisation of the images
	// Heldout draws the evaluation scenes (keys from HeldoutBase) instead
	// of the training ones.
	Heldout bool
	// Geometric adds the release's random geometric triples; Semantic one
	// true semantic triple per object that has one.
	Geometric, Semantic bool
}

// DefaultOptions are 64x64 images, 16x16 masks, up to 8 objects, ImageNet
// normalisation, both kinds of triples, 2^20 training scenes, seed 0.
func DefaultOptions() Options {
	return Options{N: 1 << 20, ImageSize: 64, MaskSize: 16, MaxObjects: 8, Normalize: true, Geometric: true, Semantic: true}
}

// World is the procedural scene dataset. It implements data.Dataset.
type World struct {
	opts  Options
	vocab *model.Vocab
	pool  sync.Pool // *canvas of the world's size
}

var _ data.Dataset = (*World)(nil)

// New checks the options and returns the world.
func New(opts Options) (*World, error) {
	switch {
	case opts.N < 1 || opts.N > HeldoutBase:
		return nil, fmt.Errorf("world: N = %d scenes; want 1..2^40 (start from DefaultOptions)", opts.N)
	case opts.ImageSize < 16 || opts.ImageSize > 256:
		return nil, fmt.Errorf("world: image size %d; want 16..256 (64 by default)", opts.ImageSize)
	case opts.MaskSize < 0 || opts.MaskSize > 256:
		return nil, fmt.Errorf("world: mask size %d; want 0 (no masks) to 256", opts.MaskSize)
	case opts.MaxObjects < 3 || opts.MaxObjects > 30:
		return nil, fmt.Errorf("world: at most %d objects a scene; want 3..30", opts.MaxObjects)
	}
	w := &World{opts: opts, vocab: NewVocab()}
	n := Supersample * opts.ImageSize
	w.pool.New = func() any { return newCanvas(n) }
	return w, nil
}

// Options returns the world's options.
func (w *World) Options() Options { return w.opts }

// Len is Options.N.
func (w *World) Len() int { return w.opts.N }

// Vocab is the world's vocabulary (NewVocab).
func (w *World) Vocab() *model.Vocab { return w.vocab }

// Key is the scene key of index i: i, or HeldoutBase + i for held-out
// worlds.
func (w *World) Key(i int) uint64 {
	if w.opts.Heldout {
		return HeldoutBase + uint64(i)
	}
	return uint64(i)
}

// Scene renders scene i; the same options and i always give the same
// scene.
func (w *World) Scene(i int) (*Scene, error) {
	if i < 0 || i >= w.opts.N {
		return nil, fmt.Errorf("world: scene %d out of range [0, %d)", i, w.opts.N)
	}
	c := w.pool.Get().(*canvas)
	defer w.pool.Put(c)
	return w.render(i, c), nil
}

// render draws scene i on c.
func (w *World) render(i int, c *canvas) *Scene {
	r := rand.New(rand.NewPCG(w.opts.Seed^sceneSalt, w.Key(i)))
	return render(r, w.opts.ImageSize, w.opts.MaxObjects, c)
}

// Example renders scene i and draws its scene graph with rng, which drives
// only the triples: the same i gives the same image, objects, boxes and
// masks, and rng fresh triples each epoch, as the COCO dataset does.
func (w *World) Example(i int, rng *rand.Rand) (*data.Example, error) {
	sc, err := w.Scene(i)
	if err != nil {
		return nil, err
	}
	return w.ExampleOf(sc, rng), nil
}

// ExampleOf turns a scene into a training example: the image (3, S, S);
// the objects in Scene order, __image__ last with box (0, 0, 1, 1) and a
// full mask; each mask the object's visible pixels cropped to its box,
// resized to M x M and thresholded at half as the COCO dataset does; then
// the triples: the release's random geometric ones, then one semantic fact
// per object (drawn among the facts that involve it, if any), then the
// __in_image__ ones.
func (w *World) ExampleOf(sc *Scene, rng *rand.Rand) *data.Example {
	m := w.opts.MaskSize
	ex := &data.Example{Image: data.ImageTensor(sc.Pix, sc.Size, sc.Size, w.opts.Normalize)}
	for i := range sc.Objects {
		o := &sc.Objects[i]
		ex.Objs = append(ex.Objs, o.Category)
		ex.Boxes = append(ex.Boxes, o.Box)
		if m > 0 {
			ex.Masks = append(ex.Masks, sc.Mask(i, m))
		}
	}
	ex.AppendImageObject(imageObj, m)
	n := len(sc.Objects)
	if w.opts.Geometric {
		ex.Triples = data.SpatialTriples(ex.Boxes, ex.Masks, m, rng)
	}
	if w.opts.Semantic {
		involved := make([][]int, n)
		for f, fact := range sc.Facts {
			involved[fact.S] = append(involved[fact.S], f)
			if fact.O != fact.S {
				involved[fact.O] = append(involved[fact.O], f)
			}
		}
		for cur := 0; cur < n; cur++ {
			if len(involved[cur]) == 0 {
				continue
			}
			f := sc.Facts[involved[cur][rng.IntN(len(involved[cur]))]]
			ex.Triples = append(ex.Triples, [3]int{f.S, f.Pred, f.O})
		}
	}
	for i := 0; i < n; i++ {
		ex.Triples = append(ex.Triples, [3]int{i, predInImage, n})
	}
	return ex
}

// Mask is object i's visible pixels cropped to its box, resized to m x m
// and thresholded at half, exactly as the COCO dataset makes a mask from a
// segmentation and a box of whole pixels.
func (sc *Scene) Mask(i, m int) []float32 {
	b := sc.Objects[i].PixBox
	cw, ch := b[2]-b[0], b[3]-b[1]
	crop := sc.Crop(i)
	mask := make([]float32, m*m)
	data.ResizeMask(mask, crop, ch, cw, m)
	return mask
}

// Crop is object i's visible pixels inside its box, row-major, 0 or 1.
func (sc *Scene) Crop(i int) []uint8 {
	b := sc.Objects[i].PixBox
	cw, ch := b[2]-b[0], b[3]-b[1]
	crop := make([]uint8, max(cw*ch, 0))
	id := uint8(i + 1)
	for y := 0; y < ch; y++ {
		row := sc.IDs[(b[1]+y)*sc.Size+b[0]:]
		for x := 0; x < cw; x++ {
			if row[x] == id {
				crop[y*cw+x] = 1
			}
		}
	}
	return crop
}
