package data

import (
	"bytes"
	"encoding/json"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// The fixtures in testdata/coco and testdata/vg are written by
// TestFixtures with -update; without it the test checks that the JSON
// files still match what this file describes.
var update = flag.Bool("update", false, "rewrite the fixtures in testdata/")

const (
	cocoDir = "testdata/coco"
	vgDir   = "testdata/vg"
)

// rowsRLE is the column-major RLE of an h x w mask whose rows [r0, r1) are
// set.
func rowsRLE(h, w, r0, r1 int) []uint32 {
	mask := make([]bool, h*w)
	for x := 0; x < w; x++ {
		for y := r0; y < r1; y++ {
			mask[x*h+y] = true
		}
	}
	return encodeMask(mask)
}

// blockRLE is the RLE of an h x w mask with rows [r0, r1) of columns
// [c0, c1) set.
func blockRLE(h, w, r0, r1, c0, c1 int) []uint32 {
	mask := make([]bool, h*w)
	for x := c0; x < c1; x++ {
		for y := r0; y < r1; y++ {
			mask[x*h+y] = true
		}
	}
	return encodeMask(mask)
}

// encodeMask is pycocotools' rleEncode of a column-major mask.
func encodeMask(mask []bool) []uint32 {
	var counts []uint32
	cur, n := false, uint32(0)
	for _, v := range mask {
		if v != cur {
			counts = append(counts, n)
			cur, n = v, 0
		}
		n++
	}
	return append(counts, n)
}

type fxImage struct {
	ID       int    `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

type fxCategory struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type fxAnn struct {
	ID           int       `json:"id"`
	ImageID      int       `json:"image_id"`
	CategoryID   int       `json:"category_id"`
	Segmentation any       `json:"segmentation"`
	BBox         []float64 `json:"bbox"`
	IsCrowd      int       `json:"iscrowd"`
}

type fxCOCO struct {
	Info        map[string]string `json:"info"`
	Images      []fxImage         `json:"images"`
	Annotations []fxAnn           `json:"annotations"`
	Categories  []fxCategory      `json:"categories"`
}

func rect(x0, y0, x1, y1 float64) [][]float64 {
	return [][]float64{{x0, y0, x1, y0, x1, y1, x0, y1}}
}

func box(x, y, w, h float64) []float64 { return []float64{x, y, w, h} }

// cocoFixture describes the COCO fixture: see coco_test.go for what each
// annotation tests.
func cocoFixture() (inst, stuff fxCOCO) {
	images := []fxImage{
		{1, "a.png", 40, 30},
		{2, "b.jpg", 32, 32},
		{3, "c.png", 20, 20},
		{4, "d.png", 20, 20},
		{5, "e.png", 20, 20},
	}
	inst = fxCOCO{
		Info:   map[string]string{"description": "sg2im-go test fixture"},
		Images: images,
		Annotations: []fxAnn{
			{101, 1, 1, rect(4, 4, 14, 16), box(4, 4, 10, 12), 0},                                                                  // person, kept
			{102, 1, 18, rect(0, 0, 4, 5), box(0, 0, 4, 5), 0},                                                                     // dog, 20/1200 of the image: too small
			{103, 1, 18, rect(20, 0, 24, 6), box(20, 0, 4, 6), 0},                                                                  // dog, exactly 0.02: too small (strict >)
			{104, 1, 2, rect(16, 8, 20, 16), box(16, 8, 8, 8), 0},                                                                  // bicycle, mask is the box's left half
			{111, 2, 1, [][]float64{{2, 2, 20, 2, 2, 20}}, box(2, 2, 18, 18), 0},                                                   // person, triangle
			{112, 2, 2, map[string]any{"counts": blockRLE(32, 32, 20, 30, 20, 30), "size": []int{32, 32}}, box(20, 20, 10, 10), 1}, // crowd, uncompressed RLE
			{121, 3, 1, rect(0, 0, 10, 10), box(0, 0, 10, 10), 0},
			{131, 4, 1, rect(0, 0, 10, 10), box(0, 0, 10, 10), 0},
			{132, 4, 18, rect(10, 0, 20, 10), box(10, 0, 10, 10), 0},
			{133, 4, 2, rect(0, 10, 20, 20), box(0, 10, 20, 10), 0},
		},
		Categories: []fxCategory{{1, "person"}, {2, "bicycle"}, {18, "dog"}},
	}
	for k := 0; k < 9; k++ { // image 5: nine objects, one too many
		inst.Annotations = append(inst.Annotations, fxAnn{141 + k, 5, 1, rect(0, 0, 10, 10), box(0, 0, 10, 10), 0})
	}
	stuff = fxCOCO{
		Images: images,
		Annotations: []fxAnn{
			{201, 1, 124, map[string]any{"counts": EncodeRLE(rowsRLE(30, 40, 20, 30)), "size": []int{30, 40}}, box(0, 20, 40, 10), 0},
			{202, 1, 157, map[string]any{"counts": rowsRLE(30, 40, 0, 10), "size": []int{30, 40}}, box(0, 0, 40, 10), 0},
			{203, 1, 183, map[string]any{"counts": EncodeRLE(rowsRLE(30, 40, 10, 20)), "size": []int{30, 40}}, box(0, 10, 40, 10), 0},
			{211, 2, 124, [][]float64{{0, 24, 32, 8}}, box(0, 24, 32, 8), 0}, // a 4-number entry: pycocotools reads a box
			{221, 3, 157, map[string]any{"counts": EncodeRLE(rowsRLE(20, 20, 0, 5)), "size": []int{20, 20}}, box(0, 0, 20, 5), 0},
			{251, 5, 157, map[string]any{"counts": EncodeRLE(rowsRLE(20, 20, 0, 5)), "size": []int{20, 20}}, box(0, 0, 20, 5), 0},
		},
		Categories: []fxCategory{{124, "grass"}, {157, "sky"}, {183, "other"}},
	}
	return inst, stuff
}

// fixtureColour is the solid colour of the PNG fixtures' pixels.
var fixtureColour = color.NRGBA{R: 255, G: 128, B: 0, A: 255}

func writePNG(t *testing.T, path string, w, h int) {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		img.SetNRGBA(i%w, i/w, fixtureColour)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.Bytes())
}

func writeJPEG(t *testing.T, path string, w, h int) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(8 * x), uint8(8 * y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.Bytes())
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// vgFixture describes the Visual Genome fixture: see vg_test.go.
func vgFixture() map[string]any {
	type img struct {
		ImageID int    `json:"image_id"`
		URL     string `json:"url"`
		Width   int    `json:"width"`
		Height  int    `json:"height"`
	}
	type obj struct {
		ObjectID int      `json:"object_id"`
		X        int      `json:"x"`
		Y        int      `json:"y"`
		W        int      `json:"w"`
		H        int      `json:"h"`
		Names    []string `json:"names"`
	}
	type objs struct {
		ImageID int   `json:"image_id"`
		Objects []obj `json:"objects"`
	}
	type ref struct {
		ObjectID int `json:"object_id"`
	}
	type rel struct {
		RelationshipID int    `json:"relationship_id"`
		Predicate      string `json:"predicate"`
		Subject        ref    `json:"subject"`
		Object         ref    `json:"object"`
	}
	type rels struct {
		ImageID       int   `json:"image_id"`
		Relationships []rel `json:"relationships"`
	}
	r := func(id int, s int, p string, o int) rel { return rel{id, p, ref{s}, ref{o}} }
	return map[string]any{
		"image_data.json": []img{
			{1, "https://example.org/VG_100K/1.png", 40, 30},
			{2, "https://example.org/VG_100K_2/2.png", 400, 300}, // the file is 40x30: boxes use the file's size
			{3, "https://example.org/VG_100K/3.png", 8, 8},       // below MinImageSize
			{4, "https://example.org/VG_100K/4.png", 40, 30},     // the val split
		},
		"objects.json": []objs{
			{1, []obj{
				{11, 2, 2, 10, 10, []string{"man"}},
				{12, 20, 2, 10, 10, []string{"guy"}}, // alias of man
				{13, 5, 15, 20, 10, []string{"tree"}},
				{14, 1, 1, 1, 1, []string{"dog"}}, // too small
				{15, 0, 0, 5, 5, []string{"cloud"}},
			}},
			{2, []obj{
				{21, 0, 0, 10, 10, []string{"man"}},
				{22, 10, 10, 10, 10, []string{"tree", "plant"}},
				{23, 20, 5, 6, 6, []string{"dog"}},
				{24, 30, 0, 5, 5, []string{"tree"}},
				{25, 0, 20, 10, 10, []string{"man"}}, // in no relationship
			}},
			{3, []obj{{31, 0, 0, 5, 5, []string{"cloud"}}}},
			{4, []obj{
				{41, 0, 0, 10, 10, []string{"man"}},
				{42, 10, 10, 10, 10, []string{"tree"}},
				{43, 20, 5, 6, 6, []string{"dog"}},
			}},
		},
		"relationships.json": []rels{
			{1, []rel{
				r(1, 11, "Next To ", 12),
				r(2, 12, "beside", 13), // alias of next to
				r(3, 11, "on", 14),     // object 14 was dropped
				r(4, 13, "above", 11),  // a predicate seen once
			}},
			{2, []rel{
				r(5, 21, "ON", 22),
				r(6, 23, "on", 24),
				r(7, 22, "next to", 21),
			}},
			{4, []rel{
				r(8, 41, "on", 42),
				r(9, 43, "On", 41), // not normalised outside the training split
			}},
		},
		"vg_splits.json": map[string][]int{"train": {1, 2, 3}, "val": {4}},
	}
}

const (
	vgObjectAliases       = "man, guy, gentleman\n"
	vgRelationshipAliases = "next to,beside\n"
)

func TestFixtures(t *testing.T) {
	inst, stuff := cocoFixture()
	files := map[string][]byte{
		filepath.Join(cocoDir, "instances.json"):       mustJSON(t, inst),
		filepath.Join(cocoDir, "stuff.json"):           mustJSON(t, stuff),
		filepath.Join(vgDir, "object_alias.txt"):       []byte(vgObjectAliases),
		filepath.Join(vgDir, "relationship_alias.txt"): []byte(vgRelationshipAliases),
	}
	for name, v := range vgFixture() {
		files[filepath.Join(vgDir, name)] = mustJSON(t, v)
	}
	if *update {
		for path, b := range files {
			writeFile(t, path, b)
		}
		writePNG(t, filepath.Join(cocoDir, "images/a.png"), 40, 30)
		writeJPEG(t, filepath.Join(cocoDir, "images/b.jpg"), 32, 32)
		for _, n := range []string{"c", "d", "e"} {
			writePNG(t, filepath.Join(cocoDir, "images", n+".png"), 20, 20)
		}
		for _, p := range []string{"VG_100K/1.png", "VG_100K_2/2.png", "VG_100K/3.png", "VG_100K/4.png"} {
			writePNG(t, filepath.Join(vgDir, "images", p), 40, 30)
		}
		return
	}
	for path, want := range files {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./data -run TestFixtures -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from fixtures_test.go; run go test ./data -run TestFixtures -update", path)
		}
	}
}
