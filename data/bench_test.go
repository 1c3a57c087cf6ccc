package data

import (
	"math"
	"math/rand/v2"
	"testing"
)

func BenchmarkCOCOExample(b *testing.B) {
	c, err := OpenCOCO(cocoOpts())
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		if _, err := c.Example(0, rng); err != nil {
			b.Fatal(err)
		}
	}
}

// A 640x480 polygon of 64 vertices, the size of a large COCO instance.
func BenchmarkPolygonRLE_640x480(b *testing.B) {
	var xy []float64
	for i := 0; i < 64; i++ {
		a := float64(i) / 64 * 2 * math.Pi
		r := 150 + 50*float64(i%2)
		xy = append(xy, 320+r*math.Cos(a), 240+r*math.Sin(a))
	}
	for b.Loop() {
		if _, err := polygonRLE(xy, 480, 640); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResizeBilinear_640x480to64(b *testing.B) {
	img := &rgbImage{w: 640, h: 480, pix: make([]uint8, 3*640*480)}
	for i := range img.pix {
		img.pix[i] = uint8(i * 7)
	}
	for b.Loop() {
		resizeBilinear(img, 64, 64)
	}
}
