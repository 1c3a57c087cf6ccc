package data

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// readFixture returns a file of the annotation fixtures.
func readFixture(f *testing.F, dir, name string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// writeAll writes each (name, data) pair into dir.
func writeAll(t *testing.T, dir string, files map[string][]byte) {
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkDataset draws the first example of an opened dataset (drawing
// decodes and resizes an image, the slow part): an error (a missing or bad
// image) or an example of the dataset's shape.
func checkDataset(t *testing.T, d Dataset) {
	if d.Vocab() == nil || d.Vocab().Validate() != nil {
		t.Fatalf("dataset opened with an invalid vocabulary")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range min(d.Len(), 1) {
		ex, err := d.Example(i, rng)
		if err != nil {
			continue
		}
		if len(ex.Objs) == 0 || len(ex.Boxes) != len(ex.Objs) {
			t.Fatalf("example %d: %d objects, %d box values", i, len(ex.Objs), len(ex.Boxes))
		}
	}
}

// FuzzCOCO opens mutated COCO instances and stuff files beside the
// fixtures' images.
func FuzzCOCO(f *testing.F) {
	f.Add(readFixture(f, cocoDir, "instances.json"), readFixture(f, cocoDir, "stuff.json"))
	f.Add([]byte(`{"images": [], "annotations": [], "categories": []}`), []byte(``))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, instances, stuff []byte) {
		writeAll(t, dir, map[string][]byte{"instances.json": instances, "stuff.json": stuff})
		o := DefaultCOCOOptions(filepath.Join(cocoDir, "images"), filepath.Join(dir, "instances.json"), filepath.Join(dir, "stuff.json"))
		if len(stuff) == 0 {
			o.StuffJSON = ""
		}
		if c, err := OpenCOCO(o); err == nil {
			checkDataset(t, c)
		} else if c != nil {
			t.Fatalf("dataset returned with an error: %v", err)
		}
	})
}

// FuzzVG opens mutated Visual Genome files beside the fixtures' images,
// splits and aliases.
func FuzzVG(f *testing.F) {
	f.Add(readFixture(f, vgDir, "image_data.json"), readFixture(f, vgDir, "objects.json"), readFixture(f, vgDir, "relationships.json"))
	f.Add([]byte(`[]`), []byte(`[]`), []byte(`[]`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, images, objects, relationships []byte) {
		writeAll(t, dir, map[string][]byte{"image_data.json": images, "objects.json": objects, "relationships.json": relationships})
		o := vgOpts()
		o.ImageDataJSON = filepath.Join(dir, "image_data.json")
		o.ObjectsJSON = filepath.Join(dir, "objects.json")
		o.RelationshipsJSON = filepath.Join(dir, "relationships.json")
		if d, err := OpenVG(o); err == nil {
			checkDataset(t, d)
		} else if d != nil {
			t.Fatalf("dataset returned with an error: %v", err)
		}
	})
}
