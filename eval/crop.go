package eval

import (
	"fmt"

	"github.com/sg2im-go/sg2im/nn"
)

// CropBoxes samples an S x S crop of every box from its image, bilinearly,
// as the object discriminator crops objects: box o = boxes (O, 4) row o, as
// (x0, y0, x1, y1) in [0, 1], is read from image objToImg[o] of img
// (N, C, H, W) on the grid linspace(x0, x1, S) by linspace(y0, y1, S),
// corner pixel centres at 0 and 1 (nn.GridSample's align_corners).
// Points outside the image read zeros. The result is (O, C, S, S).
func CropBoxes(img, boxes *nn.Tensor, objToImg []int, S int) *nn.Tensor {
	if len(img.Shape) != 4 || len(boxes.Shape) != 2 || boxes.Shape[1] != 4 || boxes.Shape[0] != len(objToImg) || S < 1 {
		panic(fmt.Sprintf("eval: CropBoxes: image %v, boxes %v, %d image indices, size %d", img.Shape, boxes.Shape, len(objToImg), S))
	}
	N, C, H, W := img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	O := len(objToImg)
	out := nn.New(O, C, S, S)
	grid := nn.New(1, S, S, 2)
	for o, n := range objToImg {
		if n < 0 || n >= N {
			panic(fmt.Sprintf("eval: CropBoxes: box %d belongs to image %d of %d", o, n, N))
		}
		src := nn.FromData(img.Data[n*C*H*W:(n+1)*C*H*W], 1, C, H, W)
		cropInto(out.Data[o*C*S*S:(o+1)*C*S*S], src, [4]float32(boxes.Data[4*o:4*o+4]), grid)
	}
	return out
}

// cropInto samples box from src (1, C, H, W) into dst (C*S*S) on grid
// (1, S, S, 2), which it overwrites.
func cropInto(dst []float32, src *nn.Tensor, box [4]float32, grid *nn.Tensor) {
	S := grid.Shape[1]
	boxGrid(grid.Data, box[0], box[1], box[2], box[3], S)
	copy(dst, nn.GridSample(src, grid).Data)
}

// boxGrid fills g (S*S*2) with the sample points of box (x0, y0, x1, y1)
// in GridSample's [-1, 1] coordinates, x fastest.
func boxGrid(g []float32, x0, y0, x1, y1 float32, S int) {
	for i := 0; i < S; i++ {
		y := 2*lerp(y0, y1, i, S) - 1
		for j := 0; j < S; j++ {
			g[(i*S+j)*2] = 2*lerp(x0, x1, j, S) - 1
			g[(i*S+j)*2+1] = y
		}
	}
}

// lerp is point i of linspace(a, b, n), as a + i/(n-1)*(b-a). It is not
// nn.Linspace or nn.LinspaceStepped: for boxes in [0, 1] and crop sides 8
// to 256 about one point in ten differs from either in the last bit, and
// the shipped classifier was trained, and the reported metrics measured,
// on crops sampled at these points.
func lerp(a, b float32, i, n int) float32 {
	if n == 1 {
		return a
	}
	t := float32(i) / float32(n-1)
	return a + t*(b-a)
}
