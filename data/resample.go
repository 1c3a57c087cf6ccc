package data

import "math"

// pilPrecisionBits is Pillow's fixed-point precision for 8-bit resampling
// (32 - 8 - 2 bits: room for 8-bit samples and a sign).
const pilPrecisionBits = 32 - 8 - 2

// pilKernel holds, for each output pixel along one axis, the first input
// pixel it reads, how many it reads, and their fixed-point weights (ksize a
// row).
type pilKernel struct {
	start, n []int
	k        []int32
	ksize    int
}

// newPILKernel computes Pillow's bilinear resampling weights from inSize to
// outSize pixels (Resample.c precompute_coeffs and normalize_coeffs_8bpc,
// Pillow 5.1 as the release pinned it): a triangle filter of support 1,
// stretched by the scale factor when shrinking so that every input pixel
// contributes (an anti-aliased, area-like average), centred on output pixel
// centres, normalised to sum 1 and rounded to 22-bit fixed point.
func newPILKernel(inSize, outSize int) *pilKernel {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	support := 1.0 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	kn := &pilKernel{start: make([]int, outSize), n: make([]int, outSize), k: make([]int32, outSize*ksize), ksize: ksize}
	w := make([]float64, ksize)
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		ss := 1 / filterscale
		// C truncates these casts toward zero.
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			t := math.Abs((float64(x+xmin) - center + 0.5) * ss)
			w[x] = 0
			if t < 1 {
				w[x] = 1 - t
			}
			ww += w[x]
		}
		k := kn.k[xx*ksize : (xx+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<pilPrecisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<pilPrecisionBits))
			}
		}
		kn.start[xx], kn.n[xx] = xmin, xmax
	}
	return kn
}

// clip8 rounds a fixed-point sum (which started at one half) to a byte.
func clip8(v int32) uint8 {
	switch {
	case v >= 1<<pilPrecisionBits<<8:
		return 255
	case v <= 0:
		return 0
	}
	return uint8(v >> pilPrecisionBits)
}

// resizeBilinear resizes an RGB image to w x h as PIL's
// Image.resize(size, BILINEAR) does for an RGB image: a horizontal pass,
// rounded to bytes, then a vertical pass. The release resizes this way
// (sg2im/data/utils.py Resize). Go's JPEG decoder converts colours and
// upsamples chroma a little differently from libjpeg, so JPEG inputs differ
// from the release by a few levels before this step; PNG inputs match.
func resizeBilinear(src *rgbImage, w, h int) *rgbImage {
	cur := src
	if w != cur.w {
		kn := newPILKernel(cur.w, w)
		out := &rgbImage{w: w, h: cur.h, pix: make([]uint8, 3*w*cur.h)}
		for y := 0; y < cur.h; y++ {
			in := cur.pix[3*y*cur.w : 3*(y+1)*cur.w]
			o := out.pix[3*y*w : 3*(y+1)*w]
			for xx := 0; xx < w; xx++ {
				k := kn.k[xx*kn.ksize:]
				s0, s1, s2 := int32(1<<(pilPrecisionBits-1)), int32(1<<(pilPrecisionBits-1)), int32(1<<(pilPrecisionBits-1))
				p := in[3*kn.start[xx]:]
				for x := 0; x < kn.n[xx]; x++ {
					s0 += int32(p[3*x]) * k[x]
					s1 += int32(p[3*x+1]) * k[x]
					s2 += int32(p[3*x+2]) * k[x]
				}
				o[3*xx], o[3*xx+1], o[3*xx+2] = clip8(s0), clip8(s1), clip8(s2)
			}
		}
		cur = out
	}
	if h != cur.h {
		kn := newPILKernel(cur.h, h)
		out := &rgbImage{w: cur.w, h: h, pix: make([]uint8, 3*cur.w*h)}
		row := 3 * cur.w
		for yy := 0; yy < h; yy++ {
			k := kn.k[yy*kn.ksize:]
			o := out.pix[yy*row : (yy+1)*row]
			for i := range o {
				s := int32(1 << (pilPrecisionBits - 1))
				p := cur.pix[kn.start[yy]*row+i:]
				for y := 0; y < kn.n[yy]; y++ {
					s += int32(p[y*row]) * k[y]
				}
				o[i] = clip8(s)
			}
		}
		cur = out
	}
	if cur == src {
		cur = &rgbImage{w: src.w, h: src.h, pix: append([]uint8(nil), src.pix...)}
	}
	return cur
}
