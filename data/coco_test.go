package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/model"
)

func cocoOpts() COCOOptions {
	return DefaultCOCOOptions(filepath.Join(cocoDir, "images"), filepath.Join(cocoDir, "instances.json"), filepath.Join(cocoDir, "stuff.json"))
}

func openCOCO(t *testing.T, edit func(*COCOOptions)) *COCO {
	t.Helper()
	o := cocoOpts()
	if edit != nil {
		edit(&o)
	}
	c, err := OpenCOCO(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func imageIDs(c *COCO) []int {
	var ids []int
	for i := 0; i < c.Len(); i++ {
		ids = append(ids, c.ImageID(i))
	}
	return ids
}

// objectsOf lists the category ids of image id's kept objects.
func objectsOf(c *COCO, id int) []int {
	for _, im := range c.imgs {
		if im.id == id {
			var out []int
			for _, o := range im.objs {
				out = append(out, o.category)
			}
			return out
		}
	}
	return nil
}

func TestCOCOFilters(t *testing.T) {
	tests := []struct {
		name string
		edit func(*COCOOptions)
		ids  []int
		// categories of image 1 when it is kept
		img1 []int
	}{
		// Image 1 keeps person, bicycle (instances first), grass, sky; the
		// two small dogs (20/1200 and exactly 0.02 of the image) and
		// "other" go. Image 2 keeps 3. Image 3 has 2 objects, image 4 no
		// stuff annotation, image 5 ten (nine people and the sky).
		{"defaults", nil, []int{1, 2}, []int{1, 2, 124, 157}},
		{"include other", func(o *COCOOptions) { o.IncludeOther = true }, []int{1, 2}, []int{1, 2, 124, 157, 183}},
		{"not stuff only", func(o *COCOOptions) { o.StuffOnly = false }, []int{1, 2, 4}, []int{1, 2, 124, 157}},
		{"min size 0", func(o *COCOOptions) { o.MinObjectSize = 0 }, []int{1, 2}, []int{1, 18, 18, 2, 124, 157}},
		{"max 3 objects", func(o *COCOOptions) { o.MaxObjectsPerImage = 3 }, []int{2}, nil},
		{"max 10 objects", func(o *COCOOptions) { o.MaxObjectsPerImage = 10 }, []int{1, 2, 5}, []int{1, 2, 124, 157}},
		{"min 2 objects", func(o *COCOOptions) { o.MinObjectsPerImage = 2 }, []int{1, 2, 3}, []int{1, 2, 124, 157}},
		{"max samples", func(o *COCOOptions) { o.MaxSamples = 1 }, []int{1}, []int{1, 2, 124, 157}},
		// Image 2 is left with person and grass.
		{"instance whitelist", func(o *COCOOptions) { o.InstanceWhitelist = []string{"person"} }, []int{1}, []int{1, 124, 157}},
		{"empty stuff whitelist", func(o *COCOOptions) { o.StuffWhitelist = []string{}; o.MinObjectsPerImage = 2 }, []int{1, 2}, []int{1, 2}},
		// Without the stuff file, stuff_only is ignored: image 4 has 3
		// instances, the others too few or too many.
		{"no stuff file", func(o *COCOOptions) { o.StuffJSON = "" }, []int{4}, nil},
	}
	for _, tc := range tests {
		c := openCOCO(t, tc.edit)
		if got := imageIDs(c); !slices.Equal(got, tc.ids) {
			t.Errorf("%s: images %v, want %v", tc.name, got, tc.ids)
		}
		if tc.img1 != nil {
			if got := objectsOf(c, 1); !slices.Equal(got, tc.img1) {
				t.Errorf("%s: image 1 objects %v, want %v", tc.name, got, tc.img1)
			}
		}
	}
	if n := openCOCO(t, nil).NumObjects(); n != 4+3 {
		t.Errorf("NumObjects %d, want 7", n)
	}
}

func TestCOCOVocab(t *testing.T) {
	v := openCOCO(t, nil).Vocab()
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(v.ObjectIdxToName) != 184 {
		t.Errorf("%d object ids, want 184 (0 to the largest category id, 183)", len(v.ObjectIdxToName))
	}
	want := map[int]string{0: "__image__", 1: "person", 2: "bicycle", 3: "NONE", 17: "NONE", 18: "dog", 124: "grass", 157: "sky", 183: "other"}
	for id, name := range want {
		if v.ObjectIdxToName[id] != name {
			t.Errorf("object %d is %q, want %q", id, v.ObjectIdxToName[id], name)
		}
		if name != "NONE" && v.ObjectNameToIdx[name] != id {
			t.Errorf("object %q has id %d, want %d", name, v.ObjectNameToIdx[name], id)
		}
	}
	if len(v.ObjectNameToIdx) != 7 {
		t.Errorf("object_name_to_idx has %d names, want 7", len(v.ObjectNameToIdx))
	}
	wantPreds := []string{"__in_image__", "left of", "right of", "above", "below", "inside", "surrounding"}
	if !slices.Equal(v.PredIdxToName, wantPreds) {
		t.Errorf("predicates %v, want %v", v.PredIdxToName, wantPreds)
	}
	for i, p := range wantPreds {
		if v.PredNameToIdx[p] != i {
			t.Errorf("predicate %q has id %d, want %d", p, v.PredNameToIdx[p], i)
		}
	}
}

func TestCOCOExample(t *testing.T) {
	c := openCOCO(t, nil)
	ex, err := c.Example(0, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ex.Image.Shape, []int{3, 64, 64}) {
		t.Errorf("image shape %v", ex.Image.Shape)
	}
	if want := []int{1, 2, 124, 157, 0}; !slices.Equal(ex.Objs, want) {
		t.Fatalf("objects %v, want %v", ex.Objs, want)
	}
	// Image 1 is 40x30; boxes are bbox / (W, H) in float32.
	wantBoxes := [][4]float32{
		{float32(4.0 / 40), float32(4.0 / 30), float32(14.0 / 40), float32(16.0 / 30)},
		{float32(16.0 / 40), float32(8.0 / 30), float32(24.0 / 40), float32(16.0 / 30)},
		{0, float32(20.0 / 30), 1, 1},
		{0, 0, 1, float32(10.0 / 30)},
		{0, 0, 1, 1},
	}
	if !slices.Equal(ex.Boxes, wantBoxes) {
		t.Errorf("boxes %v, want %v", ex.Boxes, wantBoxes)
	}
	// Masks: the person's rectangle fills its box; the bicycle's polygon
	// fills the left half of its 8x8 box, which at 16x16 is the left 8
	// columns (see TestResizeMask); grass (compressed RLE) and sky
	// (uncompressed RLE) fill theirs; __image__ is full.
	ones := strings.Repeat(strings.Repeat("1", 16)+"\n", 16)
	half := strings.Repeat("1111111100000000\n", 16)
	for i, want := range []string{ones, half, ones, ones, ones} {
		if got := floatMaskString(ex.Masks[i], 16); got != want {
			t.Errorf("mask %d (object %d):\n%swant\n%s", i, ex.Objs[i], got, want)
		}
	}
	if len(ex.Triples) != 4+4 {
		t.Fatalf("%d triples, want 4 spatial and 4 __in_image__", len(ex.Triples))
	}
	for i, tr := range ex.Triples[4:] {
		if tr != [3]int{i, 0, 4} {
			t.Errorf("in-image triple %d = %v", i, tr)
		}
	}
	// The person (box 0.1..0.35 x 0.13..0.53) and the bicycle
	// (0.4..0.6 x 0.27..0.53): whichever order the coin gave, the
	// predicate is the one the rule gives for that order.
	for _, tr := range ex.Triples[:4] {
		s, o := tr[0], tr[2]
		want := spatialPredicate(ex.Boxes[s], ex.Boxes[o], objectCentre(ex.Boxes[s], ex.Masks[s], 16), objectCentre(ex.Boxes[o], ex.Masks[o], 16))
		if tr[1] != want {
			t.Errorf("triple %v: predicate %d, want %d", tr, tr[1], want)
		}
	}

	// Image 2 is a JPEG with a crowd (uncompressed RLE) bicycle and a
	// stuff "polygon" that pycocotools reads as a box.
	ex2, err := c.Example(1, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 124, 0}; !slices.Equal(ex2.Objs, want) {
		t.Fatalf("image 2 objects %v, want %v", ex2.Objs, want)
	}
	for i := 1; i < 3; i++ {
		if got := floatMaskString(ex2.Masks[i], 16); got != ones {
			t.Errorf("image 2 mask %d:\n%s", i, got)
		}
	}
	// The person is a triangle with its right angle at the top left: ones
	// above the anti-diagonal, zeros below, the diagonal split.
	tri := ex2.Masks[0]
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			if x+y < 14 && tri[y*16+x] != 1 || x+y > 15 && tri[y*16+x] != 0 {
				t.Fatalf("triangle mask:\n%s", floatMaskString(tri, 16))
			}
		}
	}

	// Without masks, and without normalisation.
	c3 := openCOCO(t, func(o *COCOOptions) { o.MaskSize = 0; o.NormalizeImages = false; o.ImageSize = [2]int{8, 16} })
	ex3, err := c3.Example(0, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if ex3.Masks != nil || !slices.Equal(ex3.Image.Shape, []int{3, 8, 16}) || ex3.Image.Data[0] != 1 {
		t.Errorf("no masks: masks %v, image %v, first value %v (want 255/255)", ex3.Masks != nil, ex3.Image.Shape, ex3.Image.Data[0])
	}
}

// writeCOCO writes an instances file with the given JSON pieces into dir.
func writeCOCO(t *testing.T, dir, images, annotations, categories string) string {
	p := filepath.Join(dir, "instances.json")
	doc := fmt.Sprintf(`{"images": [%s], "annotations": [%s], "categories": [%s]}`, images, annotations, categories)
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCOCOErrors(t *testing.T) {
	const (
		img = `{"id": 1, "file_name": "a.png", "width": 40, "height": 30}`
		ann = `{"id": 7, "image_id": 1, "category_id": 1, "bbox": [0, 0, 20, 20], "segmentation": %s}`
		cat = `{"id": 1, "name": "person"}`
	)
	poly := fmt.Sprintf(ann, `[[0, 0, 20, 0, 20, 20]]`)
	tests := []struct {
		name               string
		images, anns, cats string
		raw                string // the whole file, when set
		msg                string
	}{
		{name: "truncated", raw: `{"images": [` + img, msg: "ends early"},
		{name: "not an object", raw: `[1, 2]`, msg: "want a JSON object"},
		{name: "syntax", raw: `{"images": [}`, msg: "near byte"},
		{name: "no categories", raw: `{"images": [], "annotations": []}`, msg: `no "categories"`},
		{name: "unknown image", images: img, anns: strings.Replace(poly, `"image_id": 1`, `"image_id": 9`, 1), cats: cat, msg: "image 9"},
		{name: "unknown category", images: img, anns: strings.Replace(poly, `"category_id": 1`, `"category_id": 5`, 1), cats: cat, msg: "category 5"},
		{name: "bad bbox", images: img, anns: strings.Replace(poly, `[0, 0, 20, 20]`, `[0, 0, 20]`, 1), cats: cat, msg: "bbox"},
		{name: "zero width", images: strings.Replace(img, `"width": 40`, `"width": 0`, 1), anns: poly, cats: cat, msg: "positive"},
		{name: "escaping path", images: strings.Replace(img, `a.png`, `../a.png`, 1), anns: poly, cats: cat, msg: "file_name"},
		{name: "category 0", images: img, anns: poly, cats: `{"id": 0, "name": "x"}`, msg: "__image__"},
		{name: "huge category", images: img, anns: poly, cats: `{"id": 99999999, "name": "x"}`, msg: "want 1.."},
		{name: "shared id", images: img, anns: poly, cats: cat + `, {"id": 1, "name": "human"}`, msg: "share id"},
	}
	for _, tc := range tests {
		dir := t.TempDir()
		var p string
		if tc.raw != "" {
			p = filepath.Join(dir, "instances.json")
			if err := os.WriteFile(p, []byte(tc.raw), 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			p = writeCOCO(t, dir, tc.images, tc.anns, tc.cats)
		}
		o := DefaultCOCOOptions(dir, p, "")
		o.MinObjectsPerImage = 1
		_, err := OpenCOCO(o)
		var fe *FormatError
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !errors.As(err, &fe) || fe.File != p {
			t.Errorf("%s: error %v; want a FormatError naming %s and containing %q", tc.name, err, p, tc.msg)
		}
	}
	if _, err := OpenCOCO(COCOOptions{InstancesJSON: "x"}); err == nil || !strings.Contains(err.Error(), "DefaultCOCOOptions") {
		t.Errorf("zero options: %v", err)
	}
}

func TestCOCOExampleErrors(t *testing.T) {
	tests := []struct {
		name, seg, msg string
	}{
		{"bad RLE", `{"counts": "p", "size": [30, 40]}`, "characters"},
		{"RLE too long", `{"counts": [2000], "size": [30, 40]}`, "outside"},
		{"absurd polygon", `[[0, 0, 1e9, 0, 0, 5]]`, "polygon 0"},
		{"huge RLE", `{"counts": [], "size": [100000, 100000]}`, "mask size"},
	}
	for _, tc := range tests {
		dir := t.TempDir()
		src, err := os.ReadFile(filepath.Join(cocoDir, "images", "a.png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "a.png"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		p := writeCOCO(t, dir, `{"id": 1, "file_name": "a.png", "width": 40, "height": 30}`,
			`{"id": 7, "image_id": 1, "category_id": 1, "bbox": [0, 0, 20, 20], "segmentation": `+tc.seg+`}`,
			`{"id": 1, "name": "person"}`)
		o := DefaultCOCOOptions(dir, p, "")
		o.MinObjectsPerImage = 1
		c, err := OpenCOCO(o)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Example(0, rand.New(rand.NewPCG(1, 1)))
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "id 7") {
			t.Errorf("%s: error %v; want the file, the annotation id and %q", tc.name, err, tc.msg)
		}
	}
	// A missing image file.
	dir := t.TempDir()
	p := writeCOCO(t, dir, `{"id": 1, "file_name": "gone.png", "width": 40, "height": 30}`,
		`{"id": 7, "image_id": 1, "category_id": 1, "bbox": [0, 0, 20, 20], "segmentation": [[0, 0, 20, 0, 20, 20]]}`,
		`{"id": 1, "name": "person"}`)
	o := DefaultCOCOOptions(dir, p, "")
	o.MinObjectsPerImage = 1
	c, err := OpenCOCO(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Example(0, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "gone.png") {
		t.Errorf("missing image: %v", err)
	}
	if _, err := c.Example(5, nil); err == nil {
		t.Error("out of range example: no error")
	}
}

func ExampleOpenCOCO() {
	c, err := OpenCOCO(DefaultCOCOOptions("testdata/coco/images", "testdata/coco/instances.json", "testdata/coco/stuff.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ex, err := c.Example(0, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		fmt.Println(err)
		return
	}
	v := c.Vocab()
	fmt.Println(c.Len(), "images")
	for i, id := range ex.Objs {
		fmt.Printf("%s %.3f\n", v.ObjectIdxToName[id], ex.Boxes[i])
	}
	fmt.Println(v.PredIdxToName[ex.Triples[len(ex.Triples)-1][1]], len(ex.Masks[0]))
	// Output:
	// 2 images
	// person [0.100 0.133 0.350 0.533]
	// bicycle [0.400 0.267 0.600 0.533]
	// grass [0.000 0.667 1.000 1.000]
	// sky [0.000 0.000 1.000 0.333]
	// __image__ [0.000 0.000 1.000 1.000]
	// __in_image__ 256
}

var _ Dataset = (*COCO)(nil)
var _ Dataset = (*VG)(nil)
var _ = model.ImageObject
