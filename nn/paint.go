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
	}
	// Each run of objects of one image (in a batch, every image's objects
	// are one run) is one product: dst[img] (D, HW) += vecs^T (D, run) *
	// planes (run, HW).
	for i := 0; i < o; {
		j := i + 1
		for j < o && img[j] == img[i] {
			j++
		}
		Gemm(true, false, d, hw, j-i, 1, vecs.Data[i*d:], d, planes.Data[i*hw:], hw, 1, dst.Data[img[i]*d*hw:], hw)
		i = j
	}
}

// Paint on a tape: returns a fresh (n, D, H, W) layout painted from vecs
// (O, D) and planes (O, 1, H, W).
func (tp *Tape) Paint(n int, vecs, planes *Var, img []int) *Var {
	d := vecs.Value.Shape[1]
	h, w := planes.Value.Shape[2], planes.Value.Shape[3]
	y := New(n, d, h, w)
	Paint(y, vecs.Value, planes.Value, img)
	return tp.result(y, func(g *Tensor) {
		hw := h * w
		dv, dp := optGrad(vecs), optGrad(planes)
		// Objects are independent: each has its own row of dvecs and
		// plane of dplanes.
		parallelFor(len(img), 3*d*hw, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				paintBackward(g.Data[img[o]*d*hw:][:d*hw], planes.Value.Data[o*hw:][:hw], vecs.Value.Data[o*d:][:d], dv, dp, o, d, hw)
			}
		})
	}, vecs, planes)
}

// paintBackward adds object o's gradients, given its image's gradient gi
// (D, HW), its plane and vector, to dv (O, D) and dp (O, HW), each nil
// when not wanted.
func paintBackward(gi, plane, vec, dv, dp []float32, o, d, hw int) {
	for c := 0; c < d; c++ {
		gs := gi[c*hw:][:hw]
		if dv != nil {
			var s float32
			for p, m := range plane {
				s += gs[p] * m
			}
			dv[o*d+c] += s
		}
		if dp != nil {
			v := vec[c]
			dpo := dp[o*hw:][:hw]
			for p, gv := range gs {
				dpo[p] += gv * v
			}
		}
	}
}
