package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
)

// fakeDataset makes tiny examples whose contents depend on the index and
// on the rng, so that batches show both the order and the randomness.
type fakeDataset struct {
	n    int
	m    int // mask size, 0 for none
	fail int // Example fails for this index (-1: never)
}

func (d fakeDataset) Len() int            { return d.n }
func (d fakeDataset) Vocab() *model.Vocab { return model.NewVocab([]string{"a", "b"}, []string{"p"}) }

func (d fakeDataset) Example(i int, rng *rand.Rand) (*Example, error) {
	if i == d.fail {
		return nil, errors.New("broken")
	}
	nobj := 1 + i%3
	ex := &Example{Image: nn.New(3, 2, 2)}
	for k := range ex.Image.Data {
		ex.Image.Data[k] = float32(i)
	}
	for k := 0; k < nobj; k++ {
		ex.Objs = append(ex.Objs, 1+k%2)
		ex.Boxes = append(ex.Boxes, [4]float32{float32(i), rng.Float32(), 1, 1})
		if d.m > 0 {
			ex.Masks = append(ex.Masks, make([]float32, d.m*d.m))
		}
	}
	ex.Objs = append(ex.Objs, 0)
	ex.Boxes = append(ex.Boxes, [4]float32{0, 0, 1, 1})
	if d.m > 0 {
		full := make([]float32, d.m*d.m)
		for k := range full {
			full[k] = 1
		}
		ex.Masks = append(ex.Masks, full)
	}
	ex.Triples = append(ex.Triples, [3]int{0, rng.IntN(2), nobj})
	for k := 0; k < nobj; k++ {
		ex.Triples = append(ex.Triples, [3]int{k, 0, nobj})
	}
	return ex, nil
}

func drain(t *testing.T, ds Dataset, batch int, seed uint64, workers, n int) []*TrainBatch {
	t.Helper()
	l := NewLoader(ds, batch, seed, workers)
	defer l.Close()
	var out []*TrainBatch
	for i := 0; i < n; i++ {
		b, err := l.Next()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// imageIndices are the dataset indices of a fake batch's images.
func imageIndices(b *TrainBatch) []int {
	var out []int
	per := len(b.Images.Data) / b.NumImages
	for i := 0; i < b.NumImages; i++ {
		out = append(out, int(b.Images.Data[i*per]))
	}
	return out
}

func TestLoaderDeterministic(t *testing.T) {
	ds := fakeDataset{n: 10, m: 2, fail: -1}
	// 10 examples in batches of 4: 4, 4, 2 per epoch; 7 batches span three
	// epochs.
	one := drain(t, ds, 4, 42, 1, 7)
	three := drain(t, ds, 4, 42, 3, 7)
	for i := range one {
		if !reflect.DeepEqual(one[i], three[i]) {
			t.Fatalf("batch %d differs between 1 and 3 workers: %v vs %v", i, imageIndices(one[i]), imageIndices(three[i]))
		}
	}
	var sizes []int
	for _, b := range one {
		sizes = append(sizes, b.NumImages)
	}
	if want := []int{4, 4, 2, 4, 4, 2, 4}; !slices.Equal(sizes, want) {
		t.Errorf("batch sizes %v, want %v", sizes, want)
	}
	// Each epoch is a permutation, and epochs differ.
	var epochs [2][]int
	for e := 0; e < 2; e++ {
		for _, b := range one[3*e : 3*e+3] {
			epochs[e] = append(epochs[e], imageIndices(b)...)
		}
		sorted := slices.Sorted(slices.Values(epochs[e]))
		if !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Errorf("epoch %d is not a permutation: %v", e, epochs[e])
		}
	}
	if slices.Equal(epochs[0], epochs[1]) {
		t.Errorf("two epochs in the same order %v", epochs[0])
	}
	// Another seed, other batches.
	other := drain(t, ds, 4, 43, 2, 1)
	if reflect.DeepEqual(one[0], other[0]) {
		t.Error("seeds 42 and 43 gave the same first batch")
	}
	if one[0].Masks == nil || !slices.Equal(one[0].Masks.Shape, []int{len(one[0].Objs), 2, 2}) {
		t.Errorf("masks not collated: %v", one[0].Masks)
	}
}

func TestLoaderErrorsAndClose(t *testing.T) {
	// Example 3 fails: its batch is an error, the loader carries on.
	l := NewLoader(fakeDataset{n: 4, fail: 3}, 1, 7, 2)
	var errs, oks int
	for i := 0; i < 8; i++ {
		_, err := l.Next()
		if err != nil {
			errs++
		} else {
			oks++
		}
	}
	if errs != 2 || oks != 6 {
		t.Errorf("%d errors and %d batches over two epochs, want 2 and 6", errs, oks)
	}
	l.Close()
	l.Close()
	if _, err := l.Next(); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	if _, err := NewLoader(fakeDataset{n: 0}, 4, 1, 1).Next(); err == nil {
		t.Error("empty dataset: no error")
	}
	if _, err := NewLoader(fakeDataset{n: 3}, 0, 1, 1).Next(); err == nil {
		t.Error("batch size 0: no error")
	}
}

func TestCollate(t *testing.T) {
	ds := fakeDataset{n: 3, m: 2, fail: -1}
	rng := rand.New(rand.NewPCG(1, 1))
	var exs []*Example
	for i := 0; i < 3; i++ {
		ex, err := ds.Example(i, rng)
		if err != nil {
			t.Fatal(err)
		}
		exs = append(exs, ex)
	}
	// Examples have 2, 3 and 4 objects (with __image__).
	b := Collate(exs, 2)
	if want := []int{1, 0, 1, 2, 0, 1, 2, 1, 0}; !slices.Equal(b.Objs, want) {
		t.Errorf("objs %v, want %v", b.Objs, want)
	}
	if want := []int{0, 0, 1, 1, 1, 2, 2, 2, 2}; !slices.Equal(b.ObjToImg, want) {
		t.Errorf("obj_to_img %v, want %v", b.ObjToImg, want)
	}
	var want [][3]int
	for i, ex := range exs {
		base := []int{0, 2, 5}[i]
		for _, tr := range ex.Triples {
			want = append(want, [3]int{tr[0] + base, tr[1], tr[2] + base})
		}
	}
	if !slices.Equal(b.Triples, want) {
		t.Errorf("triples %v, want %v", b.Triples, want)
	}
	if b.Triples[len(b.Triples)-1] != [3]int{7, 0, 8} {
		t.Errorf("last triple %v, want (7, __in_image__, 8)", b.Triples[len(b.Triples)-1])
	}
	if b.NumImages != 3 || !slices.Equal(b.Images.Shape, []int{3, 3, 2, 2}) || b.Images.Data[12] != 1 || b.Images.Data[24] != 2 {
		t.Errorf("images %v", b.Images.Shape)
	}
	if !slices.Equal(b.Boxes.Shape, []int{9, 4}) || b.Boxes.Data[4*2] != 1 || b.Boxes.Data[4*5] != 2 {
		t.Errorf("boxes %v %v", b.Boxes.Shape, b.Boxes.Data)
	}
	if !slices.Equal(b.Masks.Shape, []int{9, 2, 2}) || b.Masks.Data[4*1] != 1 || b.Masks.Data[4*2] != 0 {
		t.Errorf("masks %v %v", b.Masks.Shape, b.Masks.Data)
	}
	// m = 0, or one example without masks: no masks.
	if Collate(exs, 0).Masks != nil {
		t.Error("m = 0 gave masks")
	}
	exs[1].Masks = nil
	if Collate(exs, 2).Masks != nil {
		t.Error("an example without masks gave masks")
	}
	// The model accepts the batch as it is.
	if err := validBatch(&b.Batch, ds.Vocab()); err != nil {
		t.Error(err)
	}
}

// validBatch checks a batch's indices against itself and the vocabulary.
func validBatch(b *model.Batch, v *model.Vocab) error {
	if len(b.ObjToImg) != len(b.Objs) {
		return fmt.Errorf("%d objects, %d obj_to_img", len(b.Objs), len(b.ObjToImg))
	}
	for _, tr := range b.Triples {
		if tr[0] < 0 || tr[0] >= len(b.Objs) || tr[2] < 0 || tr[2] >= len(b.Objs) || tr[1] < 0 || tr[1] >= len(v.PredIdxToName) {
			return fmt.Errorf("triple %v out of range", tr)
		}
		if b.ObjToImg[tr[0]] != b.ObjToImg[tr[2]] {
			return fmt.Errorf("triple %v joins two images", tr)
		}
	}
	for _, o := range b.Objs {
		if o < 0 || o >= len(v.ObjectIdxToName) {
			return fmt.Errorf("object id %d out of range", o)
		}
	}
	return nil
}

func TestLoaderCOCO(t *testing.T) {
	c := openCOCO(t, func(o *COCOOptions) { o.MaxObjectsPerImage = 10 })
	a := drain(t, c, 2, 5, 1, 4)
	b := drain(t, c, 2, 5, 3, 4)
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("COCO batch %d differs between 1 and 3 workers", i)
		}
		if err := validBatch(&a[i].Batch, c.Vocab()); err != nil {
			t.Errorf("batch %d: %v", i, err)
		}
		if a[i].Masks == nil || a[i].Masks.Shape[1] != 16 {
			t.Errorf("batch %d: masks %v", i, a[i].Masks)
		}
	}
}
