package world

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sg2im-go/sg2im/data"
)

// TestCOCORoundTrip exports scenes and reads them back through the COCO
// reader: same images, objects, boxes, masks and vocabulary, and the same
// geometric triples for the same rng.
func TestCOCORoundTrip(t *testing.T) {
	const n = 24
	w := newWorld(t, func(o *Options) { o.Semantic = false })
	dir := t.TempDir()
	if err := WriteCOCO(dir, w, n, nil); err != nil {
		t.Fatal(err)
	}
	opts := data.DefaultCOCOOptions(dir, filepath.Join(dir, COCOInstancesFile), filepath.Join(dir, COCOStuffFile))
	// Keep every object: the release drops boxes of at most 2% of the
	// image and images outside 3..8 objects.
	opts.MinObjectSize = 0
	opts.MinObjectsPerImage = 0
	opts.MaxObjectsPerImage = 100
	c, err := data.OpenCOCO(opts)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != n {
		t.Fatalf("the COCO reader kept %d of %d images", c.Len(), n)
	}
	for id, name := range w.Vocab().ObjectIdxToName {
		if c.Vocab().ObjectNameToIdx[name] != id {
			t.Errorf("category %q: COCO id %d, world id %d", name, c.Vocab().ObjectNameToIdx[name], id)
		}
	}
	for i := 0; i < n; i++ {
		want, _ := w.Example(i, rand.New(rand.NewPCG(5, uint64(i))))
		got, err := c.Example(i, rand.New(rand.NewPCG(5, uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		if c.ImageID(i) != i+1 {
			t.Errorf("image %d has id %d", i, c.ImageID(i))
		}
		if !slices.Equal(got.Objs, want.Objs) {
			t.Fatalf("image %d: objects %v, want %v", i, got.Objs, want.Objs)
		}
		for k := range want.Boxes {
			if got.Boxes[k] != want.Boxes[k] {
				t.Errorf("image %d object %d: box %v, want %v", i, k, got.Boxes[k], want.Boxes[k])
			}
			if !slices.Equal(got.Masks[k], want.Masks[k]) {
				t.Errorf("image %d object %d: mask differs", i, k)
			}
		}
		if !slices.Equal(got.Image.Data, want.Image.Data) {
			t.Errorf("image %d: pixels differ", i)
		}
		if !slices.Equal(got.Triples, want.Triples) {
			t.Errorf("image %d: triples %v, want %v", i, got.Triples, want.Triples)
		}
	}

	// relationships.json: every fact, every ordered pair, ids of the image.
	b, err := os.ReadFile(filepath.Join(dir, COCORelationsFile))
	if err != nil {
		t.Fatal(err)
	}
	var rels []COCORelations
	if err := json.Unmarshal(b, &rels); err != nil {
		t.Fatal(err)
	}
	if len(rels) != n {
		t.Fatalf("relationships.json has %d images, want %d", len(rels), n)
	}
	annID := 0
	for i, r := range rels {
		sc := scene(t, w, i)
		first := annID + 1
		annID += len(sc.Objects)
		k := len(sc.Objects)
		if r.ImageID != i+1 || len(r.Relationships) != len(sc.Facts)+k*(k-1) {
			t.Fatalf("image %d: %d relationships, want %d facts + %d pairs", i, len(r.Relationships), len(sc.Facts), k*(k-1))
		}
		for _, rel := range r.Relationships {
			if rel.SubjectID < first || rel.SubjectID > annID || rel.ObjectID < first || rel.ObjectID > annID {
				t.Fatalf("image %d: relationship %+v names an annotation of another image", i, rel)
			}
			if _, ok := w.Vocab().PredNameToIdx[rel.Predicate]; !ok {
				t.Fatalf("image %d: unknown predicate %q", i, rel.Predicate)
			}
		}
		for j, f := range sc.Facts {
			want := COCORelationship{first + f.S, w.Vocab().PredIdxToName[f.Pred], first + f.O}
			if r.Relationships[j] != want {
				t.Errorf("image %d: relationship %d is %+v, want %+v", i, j, r.Relationships[j], want)
			}
		}
	}

	// With the release's default filters, small objects go: the reader
	// must keep exactly the objects whose box covers more than 2%.
	def := data.DefaultCOCOOptions(dir, opts.InstancesJSON, opts.StuffJSON)
	def.MinObjectsPerImage, def.MaxObjectsPerImage = 0, 100
	c2, err := data.OpenCOCO(def)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		sc := scene(t, w, i)
		var want []int
		for _, o := range sc.Objects {
			b := o.PixBox
			if float64((b[2]-b[0])*(b[3]-b[1]))/float64(sc.Size*sc.Size) > def.MinObjectSize {
				want = append(want, o.Category)
			}
		}
		ex, err := c2.Example(i, rand.New(rand.NewPCG(0, 0)))
		if err != nil {
			t.Fatal(err)
		}
		if got := ex.Objs[:len(ex.Objs)-1]; !slices.Equal(got, want) {
			t.Errorf("image %d with default filters: objects %v, want %v", i, got, want)
		}
	}
}

func TestRLEString(t *testing.T) {
	// Strings from a line-by-line Python transcription of pycocotools'
	// rleToString (Python integers shift arithmetically, like C's long).
	for _, tc := range []struct {
		counts []int64
		want   string
	}{
		{[]int64{0}, "0"},
		{[]int64{5, 3}, "53"},
		{[]int64{100, 20, 300, 4}, "T3d0\\9@"},
		{[]int64{4096}, "PP4"},
	} {
		if got := data.EncodeRLE(tc.counts); got != tc.want {
			t.Errorf("rleString(%v) = %q, want %q", tc.counts, got, tc.want)
		}
	}
}
