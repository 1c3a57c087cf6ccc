package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// grey makes a one-row RGB image whose three channels hold vals.
func greyRow(vals ...uint8) *rgbImage {
	img := &rgbImage{w: len(vals), h: 1}
	for _, v := range vals {
		img.pix = append(img.pix, v, v, v)
	}
	return img
}

func redChannel(img *rgbImage) []uint8 {
	var out []uint8
	for i := 0; i < len(img.pix); i += 3 {
		out = append(out, img.pix[i])
	}
	return out
}

func TestResizeBilinear(t *testing.T) {
	tests := []struct {
		name string
		in   []uint8
		w    int
		want []uint8
	}{
		// 4 -> 2: scale 2, the triangle stretched to support 2. Output 0
		// is centred at 1.0 and reads inputs 0..2 at distances 0.5, 0.5,
		// 1.5 (over 2): weights 0.75, 0.75, 0.25, normalised 3/7, 3/7, 1/7:
		// (0*3 + 70*3 + 140) / 7 = 50. Output 1 reads inputs 1..3 with
		// 1/7, 3/7, 3/7: (70 + 420 + 630) / 7 = 160.
		{"shrink 4 to 2", []uint8{0, 70, 140, 210}, 2, []uint8{50, 160}},
		// 2 -> 4: centres at 0.25, 0.75, 1.25, 1.75; output 1 reads
		// input 0 at 0.25 and input 1 at 0.75 of a pixel: 0.75*0 + 0.25*100.
		{"grow 2 to 4", []uint8{0, 100}, 4, []uint8{0, 25, 75, 100}},
		{"same size", []uint8{1, 2, 3}, 3, []uint8{1, 2, 3}},
	}
	for _, tc := range tests {
		src := greyRow(tc.in...)
		orig := slices.Clone(src.pix)
		got := resizeBilinear(src, tc.w, 1)
		if !slices.Equal(redChannel(got), tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, redChannel(got), tc.want)
		}
		if !slices.Equal(src.pix, orig) {
			t.Errorf("%s: input modified", tc.name)
		}
	}
	// The vertical pass is the same filter down columns.
	col := &rgbImage{w: 1, h: 4}
	for _, v := range []uint8{0, 70, 140, 210} {
		col.pix = append(col.pix, v, 0, 255)
	}
	got := resizeBilinear(col, 1, 2)
	if want := []uint8{50, 0, 255, 160, 0, 255}; !slices.Equal(got.pix, want) {
		t.Errorf("vertical shrink: got %v, want %v", got.pix, want)
	}
}

// pngHeaderOnly returns a PNG whose IHDR claims w x h: a real 1x1 PNG with
// the size patched and the chunk's CRC recomputed.
func pngHeaderOnly(t *testing.T, w, h uint32) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// Signature (8), IHDR length (4) and type (4), then width and height.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestReadRGBRejectsHugeHeader(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "huge.png")
	if err := os.WriteFile(p, pngHeaderOnly(t, 100000, 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := readRGB(p)
	if err == nil || !strings.Contains(err.Error(), "100000x100000") || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %v; want the file and its size named", err)
	}
	q := filepath.Join(dir, "text.png")
	if err := os.WriteFile(q, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readRGB(q); err == nil || !strings.Contains(err.Error(), "JPEG or PNG") {
		t.Fatalf("error %v; want a hint about the format", err)
	}
}

func TestImageTensor(t *testing.T) {
	img, err := readRGB("testdata/coco/images/a.png")
	if err != nil {
		t.Fatal(err)
	}
	ten := imageTensor(resizeBilinear(img, 5, 3), true)
	if !slices.Equal(ten.Shape, []int{3, 3, 5}) {
		t.Fatalf("shape %v", ten.Shape)
	}
	// A solid colour stays solid; each channel is (v/255 - mean) / std in
	// float32.
	mean, std := [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
	for c, v := range []uint8{fixtureColour.R, fixtureColour.G, fixtureColour.B} {
		want := (float32(v)/255 - mean[c]) / std[c]
		for _, got := range ten.Data[c*15 : (c+1)*15] {
			if got != want {
				t.Fatalf("channel %d: %v, want %v", c, got, want)
			}
		}
	}
}
