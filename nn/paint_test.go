package nn

import (
	"math/rand/v2"
	"testing"
)

// paintNaive is Paint one object at a time, the definition.
func paintNaive(dst, vecs, planes *Tensor, img []int) {
	n, d, h, w := dst.Shape[0], dst.Shape[1], dst.Shape[2], dst.Shape[3]
	o, hw := vecs.Shape[0], h*w
	for i := 0; i < o; i++ {
		if img[i] < 0 || img[i] >= n {
			panic("nn: paintNaive: bad image index")
		}
		plane := planes.Data[i*hw:][:hw]
		for c := 0; c < d; c++ {
			v := vecs.Data[i*d+c]
			out := dst.Data[(img[i]*d+c)*hw:][:hw]
			for p, m := range plane {
				out[p] += v * m
			}
		}
	}
}

// TestPaintRuns checks Paint, one product per run of objects of an image,
// against the definition, with images whose objects are interleaved.
func TestPaintRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, img := range [][]int{{0}, {0, 0, 1}, {1, 0, 1, 2, 2, 0}, {2, 2, 2, 2, 2, 2, 2}} {
		o := len(img)
		vecs, planes := randTensor(rng, o, 5), randTensor(rng, o, 1, 6, 7)
		got, want := randTensor(rng, 3, 5, 6, 7), New(3, 5, 6, 7)
		copy(want.Data, got.Data)
		Paint(got, vecs, planes, img)
		paintNaive(want, vecs, planes, img)
		assertNear(t, "paint", got.Data, want.Data, 1e-5)
	}
}
