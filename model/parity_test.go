package model

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/sg2im-go/sg2im/internal/fixture"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

// parityTol is the largest absolute difference from the release's tensors
// the generator may show.
const parityTol = fixture.ParityTol

var parityCases = []string{"tiny_masks", "tiny_boxes", "tiny_linear", "tiny_oldformat"}

func ints(t *nn.Tensor) []int {
	out := make([]int, len(t.Data))
	for i, v := range t.Data {
		out[i] = int(v)
	}
	return out
}

// checkParity runs both reference forward passes through g.
func checkParity(t *testing.T, c *fixture.Case, g *Generator) {
	graphs, err := ParseGraphs(c.Graphs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(graphs, g.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(b.Objs), fmt.Sprint(ints(c.Want(t, "input.objs"))); got != want {
		t.Fatalf("objs %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(b.ObjToImg), fmt.Sprint(ints(c.Want(t, "input.obj_to_img"))); got != want {
		t.Fatalf("obj_to_img %s, want %s", got, want)
	}
	var flat []int
	for _, tr := range b.Triples {
		flat = append(flat, tr[:]...)
	}
	if got, want := fmt.Sprint(flat), fmt.Sprint(ints(c.Want(t, "input.triples"))); got != want {
		t.Fatalf("triples %s, want %s", got, want)
	}

	opt := Options{}
	if c.Has("eval.noise") {
		opt.Noise = c.Want(t, "eval.noise")
	}
	out, err := g.Forward(b, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		name string
		got  *nn.Tensor
	}{
		{"eval.obj_vecs", out.ObjVecs}, {"eval.pred_vecs", out.PredVecs},
		{"eval.boxes_pred", out.BoxesPred}, {"eval.masks_pred", out.MasksPred},
		{"eval.rel_scores", out.RelScores}, {"eval.img", out.Img},
	} {
		if c.Has(k.name) {
			fixture.AssertClose(t, k.name, k.got, c.Want(t, k.name), parityTol)
		} else if k.got != nil {
			t.Errorf("%s: produced, but the reference has none", k.name)
		}
	}

	opt = Options{Boxes: c.Want(t, "input.boxes_gt")}
	if c.Has("input.masks_gt") {
		opt.Masks = c.Want(t, "input.masks_gt")
	}
	if c.Has("gt_layout.noise") {
		opt.Noise = c.Want(t, "gt_layout.noise")
	}
	out, err = g.Forward(b, opt)
	if err != nil {
		t.Fatal(err)
	}
	fixture.AssertClose(t, "gt_layout.img", out.Img, c.Want(t, "gt_layout.img"), parityTol)
}

func TestParity(t *testing.T) {
	for _, name := range parityCases {
		c := fixture.Load(t, name)
		for _, file := range c.Checkpoints {
			t.Run(file, func(t *testing.T) {
				ck, err := weights.Load(filepath.Join("..", "testdata", file))
				if err != nil {
					t.Fatal(err)
				}
				g, warnings, err := FromCheckpoint(ck)
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range warnings {
					t.Log("warning:", w)
				}
				checkParity(t, c, g)

				// Again after a round trip through our safetensors.
				var buf bytes.Buffer
				if err := ck.WriteSafetensors(&buf); err != nil {
					t.Fatal(err)
				}
				ck2, err := weights.Decode(buf.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				g2, _, err := FromCheckpoint(ck2)
				if err != nil {
					t.Fatal(err)
				}
				checkParity(t, c, g2)
			})
		}
	}
}
