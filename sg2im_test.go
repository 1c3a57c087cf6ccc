package sg2im

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/weights"
)

// release reads the reference fixture's graphs and PyTorch's tensors.
func release(t *testing.T) (string, *weights.File) {
	t.Helper()
	raw, err := os.ReadFile("testdata/tiny_masks.expected.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	f, err := weights.ReadSafetensors(raw)
	if err != nil {
		t.Fatal(err)
	}
	graphs := `[{"objects": ["sky", "grass", "sheep"], "relationships": [[0, "above", 1], [2, "below", 0]]},
		{"objects": ["tree", "sheep", "sheep", "cloud"], "relationships": [[1, "left of", 2], [0, "right of", 1], [3, "above", 0]]}]`
	return graphs, f
}

// TestMatchesRelease draws the fixture's graphs with PyTorch's noise, and
// with its boxes, and compares the pixels with PyTorch's images.
func TestMatchesRelease(t *testing.T) {
	m, err := Load("testdata/tiny_masks.zip.pt")
	if err != nil {
		t.Fatal(err)
	}
	text, f := release(t)
	graphs, err := m.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	perGraph := func(name string) [][]float32 {
		d := f.Get(name).T.Data
		n := m.NoiseLen()
		return [][]float32{d[:n], d[n : 2*n]}
	}
	gtBoxes := f.Get("input.boxes_gt").T.Data // with the __image__ boxes
	var given [][][4]float32
	o := 0
	for _, g := range graphs {
		var bs [][4]float32
		for range g.Objects {
			bs = append(bs, [4]float32(gtBoxes[o*4:][:4]))
			o++
		}
		given = append(given, bs)
		o++ // __image__
	}
	for _, tc := range []struct {
		what string
		opt  Options
		want string
	}{
		{"predicted layout", Options{Noise: perGraph("eval.noise")}, "eval.img"},
		{"given boxes", Options{Noise: perGraph("gt_layout.noise"), Boxes: given}, ""},
	} {
		imgs, err := m.Generate(graphs, tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		if tc.want == "" {
			// The release's gt_layout image also had given masks; check
			// the boxes came back as given.
			if imgs[1].Boxes[3] != given[1][3] {
				t.Errorf("%s: boxes %v, want %v", tc.what, imgs[1].Boxes, given[1])
			}
			continue
		}
		want := model.Deprocess(f.Get(tc.want).T)
		for i := range imgs {
			if d := maxDiff(imgs[i].RGBA.Pix, want[i].Pix); d > 1 {
				t.Errorf("%s, image %d: pixels differ from PyTorch's by up to %d of 255", tc.what, i, d)
			}
		}
	}
}

func maxDiff(a, b []byte) int {
	d := 0
	for i := range a {
		d = max(d, int(a[i])-int(b[i]), int(b[i])-int(a[i]))
	}
	return d
}

// TestBatchingChangesNothing draws more graphs than one batch holds and
// checks each image equals the one drawn alone with its seed.
func TestBatchingChangesNothing(t *testing.T) {
	m, err := Load("testdata/tiny_masks.zip.pt")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"sky above grass", "sheep inside grass; tree", "cloud above tree; sheep left of tree"}
	var graphs []Graph
	for i := range batchSize + 3 {
		g, err := m.Parse(texts[i%len(texts)])
		if err != nil {
			t.Fatal(err)
		}
		graphs = append(graphs, g...)
	}
	all, err := m.Generate(graphs, Options{Seed: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, batchSize - 1, batchSize, batchSize + 2} {
		one, err := m.Generate(graphs[i:i+1], Options{Seed: 100 + uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		if all[i].Seed != 100+uint64(i) || !bytes.Equal(all[i].RGBA.Pix, one[0].RGBA.Pix) || len(all[i].Boxes) != len(graphs[i].Objects) {
			t.Errorf("image %d (seed %d) differs from the same graph drawn alone", i, all[i].Seed)
		}
	}
	// What sg2im generate and the engine draw: one Forward of the batch
	// at seed Seed, image i at Seed+i.
	b, err := model.Encode(graphs[:batchSize], m.g.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.g.Forward(b, model.Options{Seed: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range model.Deprocess(out.Img) {
		if !bytes.Equal(all[i].RGBA.Pix, img.Pix) {
			t.Errorf("image %d differs from the generator's own batch", i)
		}
	}
	if lay := all[0].Layout(64, 64); lay.Bounds().Dx() != 64 {
		t.Errorf("layout picture %v", lay.Bounds())
	}
}

func TestGenerateErrors(t *testing.T) {
	m, err := Load("testdata/tiny_masks.zip.pt")
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.Parse("sky above grass")
	if err != nil {
		t.Fatal(err)
	}
	ten := make([]Graph, batchSize+2)
	for i := range ten {
		ten[i] = g[0]
	}
	ten[batchSize+1] = Graph{Objects: []string{"sky", "unicorn"}}
	for _, tc := range []struct {
		graphs []Graph
		opt    Options
		want   string
	}{
		{g, Options{Noise: [][]float32{{1, 2}}}, "noise of graph 0 has 2 values"},
		{g, Options{Noise: [][]float32{}}, "0 noise entries for 1 graphs"},
		{g, Options{Boxes: [][][4]float32{{{0, 0, 1, 1}}}}, "graph 0: 1 boxes for 2 objects"},
		{ten, Options{}, "graph 9, object 1: unknown object \"unicorn\""},
	} {
		_, err := m.Generate(tc.graphs, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	var ge *GraphError
	if _, err := m.Generate(ten, Options{}); !errors.As(err, &ge) || ge.Graph != batchSize+1 || ge.Index != 1 {
		t.Errorf("error %v: want graph %d, object 1", err, batchSize+1)
	}
	if _, err := Load("testdata/nope.pt"); err == nil {
		t.Error("a missing file loaded")
	}
	if _, err := Decode("junk", []byte("not a model")); err == nil || !strings.Contains(err.Error(), "junk") {
		t.Errorf("junk: %v", err)
	}
}
