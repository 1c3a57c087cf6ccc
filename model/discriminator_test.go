package model

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/internal/fixture"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

func loadAll(t *testing.T, file string) (*Generator, *ImageDiscriminator, *ObjectDiscriminator) {
	t.Helper()
	ck, err := weights.Load(filepath.Join("..", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := FromCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	dImg, dObj, err := DiscriminatorsFromCheckpoint(ck, g.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	if dImg == nil || dObj == nil {
		t.Fatal("checkpoint without discriminators")
	}
	return g, dImg, dObj
}

// TestDiscriminatorParity scores the reference's gt_layout images.
func TestDiscriminatorParity(t *testing.T) {
	for _, name := range parityCases {
		c := fixture.Load(t, name)
		t.Run(name, func(t *testing.T) {
			g, dImg, dObj := loadAll(t, c.Checkpoints[0])
			img := nn.Const(c.Want(t, "gt_layout.img"))
			fixture.AssertClose(t, "eval.d_img_scores", dImg.Forward(nil, false, img).Value, c.Want(t, "eval.d_img_scores"), parityTol)
			scores, ac := dObj.Forward(nil, false, img, ints(c.Want(t, "input.objs")), c.Want(t, "input.boxes_gt"), ints(c.Want(t, "input.obj_to_img")))
			fixture.AssertClose(t, "eval.d_obj_scores", scores.Value, c.Want(t, "eval.d_obj_scores"), parityTol)
			fixture.AssertClose(t, "eval.d_obj_ac_loss", ac.Value, c.Want(t, "eval.d_obj_ac_loss"), parityTol)
			_ = g
		})
	}
}

// TestDiscriminatorInitRandom: PyTorch's default initialisation, the same
// for a seed and another for another seed.
func TestDiscriminatorInitRandom(t *testing.T) {
	dc := DConfig{Arch: "C4-8-2,C4-16-2", Normalization: "batch", Activation: "leakyrelu-0.2", Padding: "valid", ObjectSize: 16}
	build := func(seed uint64) *ObjectDiscriminator {
		d, err := NewObjectDiscriminator(dc, 5)
		if err != nil {
			t.Fatal(err)
		}
		d.InitRandom(seed)
		return d
	}
	a, b, c := build(1), build(1), build(2)
	fanIn := fanIns(a.Params())
	same, differ := true, false
	for i, p := range a.Params() {
		prefix, kind, _ := cutLast(p.Name)
		bound := 0.0
		if n := fanIn[prefix]; n > 0 {
			bound = 1 / math.Sqrt(float64(n))
		}
		for j, v := range p.T.Data {
			switch {
			case bound > 0 && math.Abs(float64(v)) > bound:
				t.Fatalf("%s[%d] = %g, outside ±%g", p.Name, j, v, bound)
			case bound == 0 && kind == "weight" && v != 1, bound == 0 && kind == "bias" && v != 0:
				t.Fatalf("batch norm %s[%d] = %g", p.Name, j, v)
			}
			same = same && v == b.Params()[i].T.Data[j]
			differ = differ || v != c.Params()[i].T.Data[j]
		}
	}
	if !same || !differ {
		t.Errorf("same seed gives the same weights: %v; another seed others: %v", same, differ)
	}
	for _, buf := range a.Buffers() {
		want := float32(0)
		if strings.HasSuffix(buf.Name, ".running_var") {
			want = 1
		}
		for _, v := range buf.T.Data {
			if v != want {
				t.Fatalf("%s holds %g, want %g", buf.Name, v, want)
			}
		}
	}
}
