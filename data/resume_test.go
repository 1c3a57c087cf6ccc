package data

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
)

// resumeDataset makes one-object examples whose image holds the index and
// whose box holds a number drawn from the rng.
type resumeDataset struct{ n int }

func (d resumeDataset) Len() int            { return d.n }
func (d resumeDataset) Vocab() *model.Vocab { return model.NewVocab([]string{"a"}, nil) }

func (d resumeDataset) Example(i int, rng *rand.Rand) (*Example, error) {
	ex := &Example{Image: nn.New(3, 1, 1), Objs: []int{1, 0}, Triples: [][3]int{{0, 0, 1}}}
	ex.Image.Data[0] = float32(i)
	ex.Boxes = [][4]float32{{rng.Float32(), 0, 1, 1}, {0, 0, 1, 1}}
	return ex, nil
}

// TestNewLoaderAt checks that a loader started at batch k hands out what a
// fresh loader hands out from its batch k on, across epoch boundaries and
// with a short last batch (7 examples in batches of 3).
func TestNewLoaderAt(t *testing.T) {
	ds := resumeDataset{n: 7}
	const total = 12
	full := NewLoader(ds, 3, 42, 2)
	var want []*TrainBatch
	for range total {
		b, err := full.Next()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, b)
	}
	full.Close()
	for _, start := range []int{0, 1, 2, 3, 5, 9} {
		l := NewLoaderAt(ds, 3, 42, 3, start)
		for k := start; k < total; k++ {
			b, err := l.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(b, want[k]) {
				t.Errorf("start %d: batch %d differs from a fresh loader's", start, k)
			}
		}
		l.Close()
	}
	if _, err := NewLoaderAt(ds, 3, 42, 1, -1).Next(); err == nil {
		t.Error("a negative start was accepted")
	}
}
