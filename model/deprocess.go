package model

import (
	"errors"
	"fmt"
	"image"

	"github.com/sg2im-go/sg2im/nn"
)

// ImageNet statistics the release normalises images with
// (sg2im/data/utils.py).
var (
	imagenetMean = [3]float32{0.485, 0.456, 0.406}
	imagenetStd  = [3]float32{0.229, 0.224, 0.225}
)

// ImageNetStats are the per-channel mean and standard deviation the
// release normalises images with and Deprocess undoes.
func ImageNetStats() (mean, std [3]float32) { return imagenetMean, imagenetStd }

// ErrNotFinite is CheckFinite's error.
var ErrNotFinite = errors.New("model: the generator computed NaN or infinite pixels: the model's weights are corrupt or out of range (finite but huge values overflow float32)")

// CheckFinite returns ErrNotFinite when the generator output img holds a
// NaN or an infinity: Deprocess would turn it into a black or arbitrary
// picture, which must never be written or shown.
func CheckFinite(img *nn.Tensor) error {
	if !nn.AllFinite(img.Data) {
		return ErrNotFinite
	}
	return nil
}

// Deprocess turns generator output (N, 3, H, W) into 8-bit images as the
// release does: undo the ImageNet normalisation, stretch each image so its
// minimum is 0 and maximum 1, scale by 255 and truncate.
func Deprocess(img *nn.Tensor) []*image.RGBA {
	if len(img.Shape) != 4 || img.Shape[1] != 3 {
		panic(fmt.Sprintf("model: Deprocess: want (N, 3, H, W), got %v", img.Shape))
	}
	N, H, W := img.Shape[0], img.Shape[2], img.Shape[3]
	hw := H * W
	out := make([]*image.RGBA, N)
	x := make([]float32, 3*hw)
	for n := range out {
		for c := 0; c < 3; c++ {
			// The release divides by 1/std rather than multiplying by std.
			inv := 1 / imagenetStd[c]
			for i, v := range img.Data[(n*3+c)*hw:][:hw] {
				x[c*hw+i] = v/inv + imagenetMean[c]
			}
		}
		lo, hi := x[0], x[0]
		for _, v := range x {
			lo, hi = min(lo, v), max(hi, v)
		}
		rgba := image.NewRGBA(image.Rect(0, 0, W, H))
		for i := 0; i < hw; i++ {
			for c := 0; c < 3; c++ {
				v := x[c*hw+i]
				if hi > lo {
					v = (v - lo) / (hi - lo)
				} else {
					// A flat image would be 0/0 in the release; draw it black.
					v = 0
				}
				rgba.Pix[4*i+c] = toByte(v * 255)
			}
			rgba.Pix[4*i+3] = 255
		}
		out[n] = rgba
	}
	return out
}

// toByte clamps to [0, 255] and truncates, as Tensor.byte() does after
// clamp; NaN becomes 0.
func toByte(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}
