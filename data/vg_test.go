package data

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// vgOpts are the release's options on the fixture, with thresholds scaled
// down to its size.
func vgOpts() VGOptions {
	o := DefaultVGOptions(filepath.Join(vgDir, "images"), filepath.Join(vgDir, "image_data.json"),
		filepath.Join(vgDir, "objects.json"), filepath.Join(vgDir, "relationships.json"))
	o.SplitsJSON = filepath.Join(vgDir, "vg_splits.json")
	o.ObjectAliases = filepath.Join(vgDir, "object_alias.txt")
	o.RelationshipAliases = filepath.Join(vgDir, "relationship_alias.txt")
	o.MinImageSize = 10
	o.MinObjectInstances = 2
	o.MinObjectSize = 2
	o.MinRelationshipInstances = 2
	return o
}

func openVG(t *testing.T, edit func(*VGOptions)) *VG {
	t.Helper()
	o := vgOpts()
	if edit != nil {
		edit(&o)
	}
	d, err := OpenVG(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestVGVocab(t *testing.T) {
	v := openVG(t, nil).Vocab()
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	// Training counts (images 1 and 2; image 3 is below MinImageSize): man
	// 4 (11, 12 as the alias guy, 21, 25), tree 3, dog 2, cloud 1, plant 1.
	if want := []string{"__image__", "man", "tree", "dog"}; !slices.Equal(v.ObjectIdxToName, want) {
		t.Errorf("objects %v, want %v", v.ObjectIdxToName, want)
	}
	// Predicates of training relationships between kept objects, trimmed,
	// lower-cased and aliased: next to 3 (Next To, beside, next to), above
	// 1, on 2 (ON, on); first-seen order.
	if want := []string{"__in_image__", "next to", "on"}; !slices.Equal(v.PredIdxToName, want) {
		t.Errorf("predicates %v, want %v", v.PredIdxToName, want)
	}
	// Ties are broken by first appearance: with man at 3, man still
	// precedes tree.
	v2 := openVG(t, func(o *VGOptions) { o.ObjectAliases = "" }).Vocab()
	if want := []string{"__image__", "man", "tree", "dog"}; !slices.Equal(v2.ObjectIdxToName, want) {
		t.Errorf("without aliases: objects %v, want %v", v2.ObjectIdxToName, want)
	}
	// Higher thresholds drop words.
	v3 := openVG(t, func(o *VGOptions) { o.MinObjectInstances = 4; o.MinObjectsPerImage = 1 }).Vocab()
	if want := []string{"__image__", "man"}; !slices.Equal(v3.ObjectIdxToName, want) {
		t.Errorf("min 4 instances: objects %v, want %v", v3.ObjectIdxToName, want)
	}
}

func TestVGImages(t *testing.T) {
	d := openVG(t, nil)
	var ids []int
	for i := 0; i < d.Len(); i++ {
		ids = append(ids, d.ImageID(i))
	}
	if want := []int{1, 2}; !slices.Equal(ids, want) {
		t.Fatalf("train images %v, want %v", ids, want)
	}
	// Image 1: objects 11, 12 (man), 13 (tree); 14 is too small and 15
	// (cloud) not in the vocabulary. Relationships 1 and 2 remain (3 points
	// at object 14, 4's predicate is rare).
	im := d.imgs[0]
	if !slices.Equal(im.names, []int{1, 1, 2}) || !slices.Equal(im.rels, [][3]int{{0, 1, 1}, {1, 1, 2}}) {
		t.Errorf("image 1: names %v rels %v", im.names, im.rels)
	}
	// Image 2: 21 man, 22 tree (its first name in the vocabulary), 23 dog,
	// 24 tree, 25 man; ON and on are "on", next to stays.
	im = d.imgs[1]
	if !slices.Equal(im.names, []int{1, 2, 3, 2, 1}) || !slices.Equal(im.rels, [][3]int{{0, 2, 1}, {2, 2, 3}, {1, 1, 0}}) {
		t.Errorf("image 2: names %v rels %v", im.names, im.rels)
	}
	// The val split keeps relationship 8 ("on") but not 9 ("On"): the
	// release normalises predicates of the training split only.
	val := openVG(t, func(o *VGOptions) { o.Split = "val" })
	if val.Len() != 1 || !slices.Equal(val.imgs[0].rels, [][3]int{{0, 2, 1}}) {
		t.Errorf("val: %d images, rels %v", val.Len(), val.imgs[0].rels)
	}
	// Filters on counts.
	for _, tc := range []struct {
		name string
		edit func(*VGOptions)
		n    int
	}{
		{"max 4 objects", func(o *VGOptions) { o.MaxObjectsPerImage = 4 }, 1},
		{"min 4 objects", func(o *VGOptions) { o.MinObjectsPerImage = 4 }, 1},
		{"min 3 relationships", func(o *VGOptions) { o.MinRelationshipsPerImage = 3 }, 1},
		{"max 2 relationships", func(o *VGOptions) { o.MaxRelationshipsPerImage = 2 }, 1},
		// Image 1 (40x30) goes; image 2 (400x300 by its JSON) alone makes
		// the vocabulary.
		{"min image size 35", func(o *VGOptions) {
			o.MinImageSize, o.MinObjectInstances, o.MinRelationshipInstances = 35, 1, 1
		}, 1},
		{"max samples", func(o *VGOptions) { o.MaxSamples = 1 }, 1},
		// Without a splits file all images form "train": image 4 joins
		// (its "On" is now normalised), image 3 is still too small.
		{"no splits file", func(o *VGOptions) { o.SplitsJSON = "" }, 3},
		// Objects of 10 pixels pass a minimum of 10 but image 2's dog (6)
		// and tree 24 (5) do not, which leaves it 3 objects; image 1 keeps
		// its 3.
		{"min object size 10", func(o *VGOptions) { o.MinObjectSize = 10 }, 2},
		{"min object size 11", func(o *VGOptions) { o.MinObjectSize = 11 }, 0},
	} {
		if got := openVG(t, tc.edit).Len(); got != tc.n {
			t.Errorf("%s: %d images, want %d", tc.name, got, tc.n)
		}
	}
}

func TestVGExample(t *testing.T) {
	d := openVG(t, nil)
	ex, err := d.Example(0, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 1, 2, 0}; !slices.Equal(ex.Objs, want) {
		t.Errorf("objects %v, want %v", ex.Objs, want)
	}
	want := [][4]float32{
		{float32(2.0 / 40), float32(2.0 / 30), float32(12.0 / 40), float32(12.0 / 30)},
		{float32(20.0 / 40), float32(2.0 / 30), float32(30.0 / 40), float32(12.0 / 30)},
		{float32(5.0 / 40), float32(15.0 / 30), float32(25.0 / 40), float32(25.0 / 30)},
		{0, 0, 1, 1},
	}
	if !slices.Equal(ex.Boxes, want) {
		t.Errorf("boxes %v, want %v", ex.Boxes, want)
	}
	if wt := [][3]int{{0, 1, 1}, {1, 1, 2}, {0, 0, 3}, {1, 0, 3}, {2, 0, 3}}; !slices.Equal(ex.Triples, wt) {
		t.Errorf("triples %v, want %v", ex.Triples, wt)
	}
	if ex.Masks != nil {
		t.Error("VG examples have no masks")
	}

	// Image 2's JSON says 400x300 but its file is 40x30: boxes use the
	// file. Its orphan (object 25, index 4) fills up the objects.
	ex, err = d.Example(1, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Objs) != 6 || ex.Objs[4] != 1 || ex.Boxes[4] != [4]float32{0, float32(20.0 / 30), float32(10.0 / 40), 1} {
		t.Errorf("image 2: objs %v boxes %v", ex.Objs, ex.Boxes)
	}
	noOrphans := openVG(t, func(o *VGOptions) { o.UseOrphanedObjects = false })
	ex, err = noOrphans.Example(1, rand.New(rand.NewPCG(1, 1)))
	if err != nil || len(ex.Objs) != 5 {
		t.Errorf("without orphans: %v objects, %v", ex.Objs, err)
	}
	// MaxObjects 3: four objects are in relationships, more than 3-1, so
	// the release samples MaxObjects = 3 of them (not 2): 4 with
	// __image__. The triples follow the sampled order.
	small := openVG(t, func(o *VGOptions) { o.MaxObjects = 3 })
	for seed := uint64(0); seed < 10; seed++ {
		ex, err = small.Example(1, rand.New(rand.NewPCG(seed, 0)))
		if err != nil {
			t.Fatal(err)
		}
		if len(ex.Objs) != 4 {
			t.Fatalf("MaxObjects 3: %d objects, want 4", len(ex.Objs))
		}
		for _, tr := range ex.Triples {
			if tr[0] >= 4 || tr[2] >= 4 || tr[0] == tr[2] {
				t.Fatalf("triple %v", tr)
			}
		}
	}
	// Without relationships only the __in_image__ triples remain.
	ex, err = openVG(t, func(o *VGOptions) { o.IncludeRelationships = false }).Example(0, rand.New(rand.NewPCG(1, 1)))
	if err != nil || len(ex.Triples) != 3 {
		t.Errorf("without relationships: %v, %v", ex.Triples, err)
	}
}

func TestVGErrors(t *testing.T) {
	tests := []struct {
		name, file, content, msg string
		blame                    string // the file the error names, if not file
	}{
		{"truncated objects", "objects.json", `[{"image_id": 1, "objects": [`, "ends early", ""},
		{"not a list", "image_data.json", `{"image_id": 1}`, "want a list", ""},
		{"no image id", "image_data.json", `[{"url": "x/y/1.png", "width": 40, "height": 30}]`, "no image_id", ""},
		{"no object id", "objects.json", `[{"image_id": 1, "objects": [{"x": 1, "y": 1, "w": 5, "h": 5, "names": ["man"]}]}]`, "no object_id", ""},
		{"bad splits", "vg_splits.json", `{"train": [1, 99]}`, "image 99", "image_data.json"},
	}
	for _, tc := range tests {
		dir := t.TempDir()
		for _, f := range []string{"image_data.json", "objects.json", "relationships.json", "vg_splits.json"} {
			b, err := os.ReadFile(filepath.Join(vgDir, f))
			if err != nil {
				t.Fatal(err)
			}
			if f == tc.file {
				b = []byte(tc.content)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		o := vgOpts()
		o.ImageDataJSON = filepath.Join(dir, "image_data.json")
		o.ObjectsJSON = filepath.Join(dir, "objects.json")
		o.RelationshipsJSON = filepath.Join(dir, "relationships.json")
		o.SplitsJSON = filepath.Join(dir, "vg_splits.json")
		_, err := OpenVG(o)
		blame := tc.file
		if tc.blame != "" {
			blame = tc.blame
		}
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), filepath.Join(dir, blame)) {
			t.Errorf("%s: error %v; want the file and %q", tc.name, err, tc.msg)
		}
	}
	if _, err := OpenVG(func() VGOptions { o := vgOpts(); o.Split = "nope"; return o }()); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown split: %v", err)
	}
	if _, err := vgImagePath("https://example.org/../"); err == nil {
		t.Error("a URL without a file name was accepted")
	}
	if p, err := vgImagePath("https://cs.stanford.edu/people/rak248/VG_100K_2/1.jpg"); err != nil || p != filepath.Join("VG_100K_2", "1.jpg") {
		t.Errorf("image path %q, %v", p, err)
	}
}
