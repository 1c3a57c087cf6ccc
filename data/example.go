package data

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
)

// Example is one training image with its objects and a scene graph.
type Example struct {
	// Image is (3, H, W), ImageNet-normalised ((x/255 - mean) / std with
	// mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225) unless the
	// dataset was opened without normalisation.
	Image *nn.Tensor
	// Objs are object ids of the dataset's vocabulary, __image__ last.
	Objs []int
	// Boxes are (x0, y0, x1, y1) in [0, 1] image coordinates, one per
	// object; __image__ has (0, 0, 1, 1).
	Boxes [][4]float32
	// Masks hold M*M values in {0, 1} per object, row-major over the
	// object's box; __image__ has a full mask. Nil when the dataset has no
	// masks (Visual Genome, or mask size 0).
	Masks [][]float32
	// Triples are (subject, predicate id, object), subject and object
	// indexing Objs; the __in_image__ triples come last.
	Triples [][3]int
}

// AppendImageObject adds the __image__ object (id) that every example
// ends with: box (0, 0, 1, 1) and, when m > 0, a full m x m mask.
func (ex *Example) AppendImageObject(id, m int) {
	ex.Objs = append(ex.Objs, id)
	ex.Boxes = append(ex.Boxes, [4]float32{0, 0, 1, 1})
	if m > 0 {
		full := make([]float32, m*m)
		for k := range full {
			full[k] = 1
		}
		ex.Masks = append(ex.Masks, full)
	}
}

// TrainBatch is a collated batch of examples.
type TrainBatch struct {
	Images *nn.Tensor // (N, 3, H, W)
	Boxes  *nn.Tensor // (O, 4)
	Masks  *nn.Tensor // (O, M, M); nil without masks
	// Batch holds Objs, Triples (indices offset into the batch's objects),
	// ObjToImg and NumImages.
	model.Batch
}

// Dataset is a source of training examples. Example must be safe for
// concurrent use; all its randomness comes from rng.
type Dataset interface {
	Len() int
	Example(i int, rng *rand.Rand) (*Example, error)
	Vocab() *model.Vocab
}

// Collate concatenates examples into a batch as the release's
// coco_collate_fn and vg_collate_fn do: objects and boxes of all images in
// order, triple indices offset by the objects before their image. Masks are
// collated when m > 0 and every example has them. Examples of different
// image sizes, or masks of another size than m x m, are programmer errors
// and panic.
func Collate(exs []*Example, m int) *TrainBatch {
	if len(exs) == 0 {
		panic("data: Collate: no examples")
	}
	c, h, w := exs[0].Image.Dim(0), exs[0].Image.Dim(1), exs[0].Image.Dim(2)
	hasMasks := m > 0
	numObjs := 0
	for i, ex := range exs {
		if !nn.SameShape(ex.Image.Shape, exs[0].Image.Shape) {
			panic(fmt.Sprintf("data: Collate: image %d has shape %v, image 0 %v", i, ex.Image.Shape, exs[0].Image.Shape))
		}
		if len(ex.Boxes) != len(ex.Objs) {
			panic(fmt.Sprintf("data: Collate: example %d has %d objects and %d boxes", i, len(ex.Objs), len(ex.Boxes)))
		}
		if ex.Masks == nil {
			hasMasks = false
		} else if len(ex.Masks) != len(ex.Objs) {
			panic(fmt.Sprintf("data: Collate: example %d has %d objects and %d masks", i, len(ex.Objs), len(ex.Masks)))
		} else if slices.ContainsFunc(ex.Masks, func(mk []float32) bool { return mk == nil }) {
			hasMasks = false
		}
		numObjs += len(ex.Objs)
	}
	b := &TrainBatch{
		Images: nn.New(len(exs), c, h, w),
		Boxes:  nn.New(numObjs, 4),
		Batch:  model.Batch{NumImages: len(exs), Objs: make([]int, 0, numObjs), ObjToImg: make([]int, 0, numObjs)},
	}
	if hasMasks {
		b.Masks = nn.New(numObjs, m, m)
	}
	for i, ex := range exs {
		base := len(b.Objs)
		copy(b.Images.Data[i*c*h*w:], ex.Image.Data)
		for j, id := range ex.Objs {
			copy(b.Boxes.Data[(base+j)*4:], ex.Boxes[j][:])
			if hasMasks {
				if len(ex.Masks[j]) != m*m {
					panic(fmt.Sprintf("data: Collate: example %d, object %d: mask has %d values, want %d x %d", i, j, len(ex.Masks[j]), m, m))
				}
				copy(b.Masks.Data[(base+j)*m*m:], ex.Masks[j])
			}
			b.Objs = append(b.Objs, id)
			b.ObjToImg = append(b.ObjToImg, i)
		}
		for _, t := range ex.Triples {
			b.Triples = append(b.Triples, [3]int{t[0] + base, t[1], t[2] + base})
		}
	}
	return b
}

// maskSize is the side of an example's masks, 0 without masks.
func maskSize(ex *Example) int {
	if len(ex.Masks) == 0 || ex.Masks[0] == nil {
		return 0
	}
	n := len(ex.Masks[0])
	m := 0
	for m*m < n {
		m++
	}
	return m
}
