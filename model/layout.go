package model

import (
	"github.com/sg2im-go/sg2im/nn"
)

// boxSource is the side of the constant source painted for box-only
// layouts; the release broadcasts each vector over 8 x 8.
const boxSource = 8

// boxGrid maps every pixel of an H x W canvas into each box's own [-1, 1]
// coordinates: grid (O, H, W, 2) for boxes (O, 4) as (x0, y0, x1, y1).
// A box narrower than one pixel (the release divides by zero there and
// returns NaN) is widened to one pixel.
func boxGrid(boxes *nn.Tensor, H, W int) *nn.Tensor {
	O := boxes.Shape[0]
	xs, ys := nn.Linspace(0, 1, W), nn.Linspace(0, 1, H)
	grid := nn.New(O, H, W, 2)
	minW, minH := 1/float32(W), 1/float32(H)
	for o := 0; o < O; o++ {
		b := boxes.Data[o*4 : o*4+4]
		x0, y0 := b[0], b[1]
		ww, hh := b[2]-b[0], b[3]-b[1]
		if !(ww >= minW) {
			ww = minW
		}
		if !(hh >= minH) {
			hh = minH
		}
		g := grid.Data[o*H*W*2:][:H*W*2]
		for i := 0; i < H; i++ {
			gy := (ys[i]-y0)/hh*2 - 1
			for j := 0; j < W; j++ {
				g[(i*W+j)*2] = (xs[j]-x0)/ww*2 - 1
				g[(i*W+j)*2+1] = gy
			}
		}
	}
	return grid
}

// sceneLayout paints object vectors (O, D) into their boxes, shaped by
// masks (O, M, M) or, when masks is nil, by a constant 8 x 8 source, and
// sums the objects of each image: (N, D, H, W). Boxes are data: no
// gradient flows to them, as in the release's training on real boxes.
func sceneLayout(tp *nn.Tape, vecs *nn.Var, boxes *nn.Tensor, masks *nn.Var, objToImg []int, N, H, W int) *nn.Var {
	O := vecs.Value.Shape[0]
	var src *nn.Var
	if masks != nil {
		src = tp.Reshape(masks, O, 1, masks.Value.Shape[1], masks.Value.Shape[2])
	} else {
		ones := nn.New(O, 1, boxSource, boxSource)
		for i := range ones.Data {
			ones.Data[i] = 1
		}
		src = nn.Const(ones)
	}
	planes := tp.GridSample(src, boxGrid(boxes, H, W))
	return tp.Paint(N, vecs, planes, objToImg)
}
