package data

import "math"

// resizeMask scales a ch x cw binary mask to m x m and thresholds it, as
// the release does with scikit-image 0.14:
//
//	imresize(255.0 * mask, (M, M), mode='constant') > 128
//
// That resize is bilinear (order 1) without anti-aliasing (0.14's default),
// samples output pixel i at input coordinate (i + 0.5) * in/out - 0.5, reads
// 0 (cval) outside the input, and then clips the result to the input's
// value range, leaving exact-cval pixels alone when cval lies outside it.
// The clip matters for a crop that is all ones: its border pixels, which
// blend in the outside zeros, are raised back to 255. dst gets m*m values,
// 0 or 1. An empty crop gives an all-zero mask (scikit-image fails on it).
func resizeMask(dst []float32, src []uint8, ch, cw, m int) {
	clear(dst[:m*m])
	if ch == 0 || cw == 0 {
		return
	}
	lo, hi := 255.0, 0.0
	for _, v := range src {
		f := 255 * float64(v)
		lo, hi = min(lo, f), max(hi, f)
	}
	// cval 0 lies outside [lo, hi] only when the crop is all ones.
	preserveCval := lo > 0
	pix := func(r, c int) float64 {
		if r < 0 || r >= ch || c < 0 || c >= cw {
			return 0
		}
		return 255 * float64(src[r*cw+c])
	}
	fr, fc := float64(ch)/float64(m), float64(cw)/float64(m)
	for i := 0; i < m; i++ {
		r := fr*(float64(i)+0.5) - 0.5
		r0, r1 := int(math.Floor(r)), int(math.Ceil(r))
		dr := r - float64(r0)
		for j := 0; j < m; j++ {
			c := fc*(float64(j)+0.5) - 0.5
			c0, c1 := int(math.Floor(c)), int(math.Ceil(c))
			dc := c - float64(c0)
			top := (1-dc)*pix(r0, c0) + dc*pix(r0, c1)
			bottom := (1-dc)*pix(r1, c0) + dc*pix(r1, c1)
			v := (1-dr)*top + dr*bottom
			if !(preserveCval && v == 0) {
				v = min(max(v, lo), hi)
			}
			if v > 128 {
				dst[i*m+j] = 1
			}
		}
	}
}
