package eval

import (
	"math"
	"testing"

	"github.com/sg2im-go/sg2im/nn"
)

// TestCropBoxes crops a synthetic image whose value encodes (image,
// channel, y, x): a box whose corners are pixel centres reads those pixels
// exactly, a mirrored box reads them mirrored, and each box reads its own
// image.
func TestCropBoxes(t *testing.T) {
	const N, C, H, W = 2, 3, 8, 8
	img := nn.New(N, C, H, W)
	val := func(n, c, y, x int) float32 { return float32(1000*n + 100*c + 10*y + x) }
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			for y := 0; y < H; y++ {
				for x := 0; x < W; x++ {
					img.Data[((n*C+c)*H+y)*W+x] = val(n, c, y, x)
				}
			}
		}
	}
	orig := img.Clone()
	// Pixel centre k of 8 is at k/7 in box coordinates.
	boxes := nn.FromData([]float32{
		2.0 / 7, 1.0 / 7, 5.0 / 7, 4.0 / 7, // pixels x 2..5, y 1..4 of image 1
		5.0 / 7, 1.0 / 7, 2.0 / 7, 4.0 / 7, // the same, mirrored, of image 0
		0, 0, 1, 1, // all of image 1, at half resolution: every other pixel (with interpolation)
	}, 3, 4)
	const S = 4
	crops := CropBoxes(img, boxes, []int{1, 0, 1}, S)
	if want := []int{3, C, S, S}; !nn.SameShape(crops.Shape, want) {
		t.Fatalf("shape %v, want %v", crops.Shape, want)
	}
	at := func(o, c, i, j int) float32 { return crops.Data[((o*C+c)*S+i)*S+j] }
	var maxDiff float64
	for c := 0; c < C; c++ {
		for i := 0; i < S; i++ {
			for j := 0; j < S; j++ {
				maxDiff = math.Max(maxDiff, math.Abs(float64(at(0, c, i, j)-val(1, c, 1+i, 2+j))))
				maxDiff = math.Max(maxDiff, math.Abs(float64(at(1, c, i, j)-val(0, c, 1+i, 5-j))))
				// Point (i, j) of linspace(0, 1, 4) is at pixel 7i/3, 7j/3;
				// the image is linear in x and y, so bilinear sampling is exact.
				want := 1000 + 100*float64(c) + 10*7*float64(i)/3 + 7*float64(j)/3
				maxDiff = math.Max(maxDiff, math.Abs(float64(at(2, c, i, j))-want))
			}
		}
	}
	if maxDiff > 1e-3 {
		t.Errorf("crops differ from the pixels by up to %g", maxDiff)
	}
	for i := range img.Data {
		if img.Data[i] != orig.Data[i] {
			t.Fatal("CropBoxes modified its input")
		}
	}
}
