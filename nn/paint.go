package nn

import "fmt"

// Paint sums outer products into images: for each object o,
// dst[img[o], d, :, :] += vecs[o, d] * planes[o, 0, :, :], where dst is
// (N, D, H, W), vecs (O, D) and planes (O, 1, H, W). This is the scene
// layout's per-image sum of objects painted into their boxes.
func Paint(dst, vecs, planes *Tensor, img []int) {
	mustRank("Paint dst", dst, 4)
	mustRank("Paint vecs", vecs, 2)
	mustRank("Paint planes", planes, 4)
	n, d, h, w := dst.Shape[0], dst.Shape[1], dst.Shape[2], dst.Shape[3]
	o := vecs.Shape[0]
	if vecs.Shape[1] != d || planes.Shape[0] != o || planes.Shape[1] != 1 ||
		planes.Shape[2] != h || planes.Shape[3] != w || len(img) != o {
		panic(fmt.Sprintf("nn: Paint: dst %v, vecs %v, planes %v, %d image indices", dst.Shape, vecs.Shape, planes.Shape, len(img)))
	}
	hw := h * w
	for i := 0; i < o; i++ {
		if img[i] < 0 || img[i] >= n {
			panic(fmt.Sprintf("nn: Paint: image index %d out of range [0, %d)", img[i], n))
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
