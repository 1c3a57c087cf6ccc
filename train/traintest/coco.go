// Package traintest writes small synthetic COCO-format data sets for the
// training tests: PNG images of coloured shapes on sky and grass, with
// polygon segmentations in an instances file and a stuff file.
package traintest

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/sg2im-go/sg2im/internal/atomicfile"
)

// COCO is where WriteCOCO put a data set.
type COCO struct {
	ImageDir      string
	InstancesJSON string
	StuffJSON     string
}

// Categories: three shapes (instances) and two kinds of stuff.
var (
	thingNames  = []string{"square", "disc", "bar"}
	thingColors = []color.RGBA{{220, 40, 40, 255}, {40, 60, 220, 255}, {240, 200, 30, 255}}
	stuffNames  = []string{"sky", "grass"}
	stuffColors = []color.RGBA{{150, 200, 250, 255}, {40, 140, 50, 255}}
)

// ellipseVertices is the number of vertices of a disc's polygon.
const ellipseVertices = 16

type cocoImage struct {
	ID       int    `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

type cocoCategory struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type cocoAnnotation struct {
	ID           int         `json:"id"`
	ImageID      int         `json:"image_id"`
	CategoryID   int         `json:"category_id"`
	Segmentation [][]float64 `json:"segmentation"`
	BBox         [4]float64  `json:"bbox"`
	IsCrowd      int         `json:"iscrowd"`
}

type cocoFile struct {
	Images      []cocoImage      `json:"images"`
	Categories  []cocoCategory   `json:"categories"`
	Annotations []cocoAnnotation `json:"annotations"`
}

// WriteCOCO writes n side x side images into dir/images and their
// annotations into dir/instances.json and dir/stuff.json, the same for
// the same seed. Every image has sky above a horizon and grass below it
// (stuff) and three or four shapes (instances), each covering well over
// 2% of the image, so that the release's filters keep every image, with
// or without the stuff file.
func WriteCOCO(dir string, n, side int, seed uint64) (*COCO, error) {
	c := &COCO{
		ImageDir:      filepath.Join(dir, "images"),
		InstancesJSON: filepath.Join(dir, "instances.json"),
		StuffJSON:     filepath.Join(dir, "stuff.json"),
	}
	if err := os.MkdirAll(c.ImageDir, 0o755); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x7e57))
	var inst, stuff cocoFile
	for i, name := range thingNames {
		inst.Categories = append(inst.Categories, cocoCategory{ID: 1 + i, Name: name})
	}
	for i, name := range stuffNames {
		stuff.Categories = append(stuff.Categories, cocoCategory{ID: 1 + len(thingNames) + i, Name: name})
	}
	annID := 1
	s := float64(side)
	for id := 1; id <= n; id++ {
		img := image.NewRGBA(image.Rect(0, 0, side, side))
		horizon := math.Round(s * (0.35 + 0.3*rng.Float64()))
		for k, box := range [][4]float64{{0, 0, s, horizon}, {0, horizon, s, s - horizon}} {
			fillPolygon(img, rectPolygon(box), stuffColors[k])
			stuff.Annotations = append(stuff.Annotations, cocoAnnotation{
				ID: annID, ImageID: id, CategoryID: 1 + len(thingNames) + k,
				Segmentation: [][]float64{rectPolygon(box)}, BBox: box})
			annID++
		}
		for range 3 + rng.IntN(2) {
			cat := rng.IntN(len(thingNames))
			w := math.Round(s * (0.2 + 0.25*rng.Float64()))
			h := math.Round(s * (0.2 + 0.25*rng.Float64()))
			if thingNames[cat] == "bar" {
				h = math.Round(s * 0.2)
				w = math.Round(s * (0.45 + 0.2*rng.Float64()))
			}
			x := math.Round(rng.Float64() * (s - w))
			y := math.Round(rng.Float64() * (s - h))
			box := [4]float64{x, y, w, h}
			poly := rectPolygon(box)
			if thingNames[cat] == "disc" {
				poly = ellipsePolygon(box)
			}
			fillPolygon(img, poly, thingColors[cat])
			inst.Annotations = append(inst.Annotations, cocoAnnotation{
				ID: annID, ImageID: id, CategoryID: 1 + cat, Segmentation: [][]float64{poly}, BBox: box})
			annID++
		}
		name := fmt.Sprintf("%06d.png", id)
		if err := atomicfile.WritePNG(filepath.Join(c.ImageDir, name), img); err != nil {
			return nil, err
		}
		im := cocoImage{ID: id, FileName: name, Width: side, Height: side}
		inst.Images = append(inst.Images, im)
		stuff.Images = append(stuff.Images, im)
	}
	for _, f := range []struct {
		path string
		v    *cocoFile
	}{{c.InstancesJSON, &inst}, {c.StuffJSON, &stuff}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(f.path, b, 0o644); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// rectPolygon is the outline of an (x, y, w, h) box as x0, y0, x1, y1, ...
func rectPolygon(b [4]float64) []float64 {
	x0, y0, x1, y1 := b[0], b[1], b[0]+b[2], b[1]+b[3]
	return []float64{x0, y0, x1, y0, x1, y1, x0, y1}
}

// ellipsePolygon is the ellipse inscribed in an (x, y, w, h) box.
func ellipsePolygon(b [4]float64) []float64 {
	cx, cy, rx, ry := b[0]+b[2]/2, b[1]+b[3]/2, b[2]/2, b[3]/2
	var out []float64
	for k := range ellipseVertices {
		a := 2 * math.Pi * float64(k) / ellipseVertices
		out = append(out, cx+rx*math.Cos(a), cy+ry*math.Sin(a))
	}
	return out
}

// fillPolygon paints the pixels whose centres lie inside the polygon
// (even-odd rule).
func fillPolygon(img *image.RGBA, xy []float64, c color.RGBA) {
	n := len(xy) / 2
	for py := img.Rect.Min.Y; py < img.Rect.Max.Y; py++ {
		for px := img.Rect.Min.X; px < img.Rect.Max.X; px++ {
			x, y := float64(px)+0.5, float64(py)+0.5
			in := false
			for i, j := 0, n-1; i < n; j, i = i, i+1 {
				xi, yi, xj, yj := xy[2*i], xy[2*i+1], xy[2*j], xy[2*j+1]
				if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
					in = !in
				}
			}
			if in {
				img.SetRGBA(px, py, c)
			}
		}
	}
}
