package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // the datasets' images are JPEG
	_ "image/png"
	"io"
	"os"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
)

// maxImageFileBytes bounds the image files read: 2^28 bytes (256 MiB) is
// far beyond any dataset JPEG.
const maxImageFileBytes = 1 << 28

// rgbImage is 8-bit RGB, row-major, 3 bytes a pixel.
type rgbImage struct {
	w, h int
	pix  []uint8
}

// readRGB reads a JPEG or PNG file as 8-bit RGB, the way PIL's
// convert('RGB') sees it: alpha is dropped (not composited), grey is
// replicated, 16-bit samples keep their high byte. The header is checked
// before the pixels are decoded.
func readRGB(path string) (*rgbImage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxImageFileBytes {
		return nil, fmt.Errorf("image %s: file has %d bytes, more than %d", path, st.Size(), maxImageFileBytes)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("image %s: %v", path, err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("image %s: %v (want a JPEG or PNG file)", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxSide || cfg.Height > maxSide || cfg.Width*cfg.Height > maxPixels {
		return nil, fmt.Errorf("image %s: %s header says %dx%d; accepted sizes are 1..%d a side and at most %d pixels", path, format, cfg.Width, cfg.Height, maxSide, maxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("image %s: %v", path, err)
	}
	return toRGB(img), nil
}

// toRGB converts any decoded image to rgbImage.
func toRGB(img image.Image) *rgbImage {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	out := &rgbImage{w: w, h: h, pix: make([]uint8, 3*w*h)}
	p := out.pix
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi, ci := m.YOffset(r.Min.X+x, r.Min.Y+y), m.COffset(r.Min.X+x, r.Min.Y+y)
				p[0], p[1], p[2] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				p = p[3:]
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			for _, v := range m.Pix[y*m.Stride:][:w] {
				p[0], p[1], p[2] = v, v, v
				p = p[3:]
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:][:4*w]
			for x := 0; x < w; x++ {
				p[0], p[1], p[2] = row[4*x], row[4*x+1], row[4*x+2]
				p = p[3:]
			}
		}
	default:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				p[0], p[1], p[2] = c.R, c.G, c.B
				p = p[3:]
			}
		}
	}
	return out
}

// imageTensor turns an RGB image already at the model size into a
// (3, H, W) tensor as torchvision's ToTensor (x / 255) and, if normalize,
// Normalize with the ImageNet statistics do it, in float32.
func imageTensor(img *rgbImage, normalize bool) *nn.Tensor {
	t := nn.New(3, img.h, img.w)
	hw := img.h * img.w
	mean, std := model.ImageNetStats()
	for c := 0; c < 3; c++ {
		dst := t.Data[c*hw : (c+1)*hw]
		for i := range dst {
			v := float32(img.pix[3*i+c]) / 255
			if normalize {
				v = (v - mean[c]) / std[c]
			}
			dst[i] = v
		}
	}
	return t
}

// loadImage reads an image file and returns it resized to h x w as a
// (3, h, w) tensor, with the file's own width and height.
func loadImage(path string, h, w int, normalize bool) (t *nn.Tensor, fileW, fileH int, err error) {
	img, err := readRGB(path)
	if err != nil {
		return nil, 0, 0, err
	}
	return imageTensor(resizeBilinear(img, w, h), normalize), img.w, img.h, nil
}
