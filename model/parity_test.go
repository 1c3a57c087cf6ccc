package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

// parityTol is the largest absolute difference from the release's tensors
// the generator may show; the fixtures' README expects about 1e-5.
const parityTol = 1e-4

var parityCases = []string{"tiny_masks", "tiny_boxes", "tiny_linear", "tiny_oldformat"}

type fixtureCase struct {
	Name        string          `json:"case"`
	Checkpoints []string        `json:"checkpoints"`
	Graphs      json.RawMessage `json:"scene_graphs"`
	Tensors     []string        `json:"tensors"`
	Expected    *weights.File   `json:"-"`
}

func loadCase(t testing.TB, name string) *fixtureCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var c fixtureCase
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	st, err := os.ReadFile(filepath.Join("..", "testdata", name+".expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Expected, err = weights.ReadSafetensors(st); err != nil {
		t.Fatal(err)
	}
	return &c
}

func (c *fixtureCase) want(t testing.TB, name string) *nn.Tensor {
	t.Helper()
	e := c.Expected.Get(name)
	if e == nil {
		t.Fatalf("%s: fixture has no tensor %q", c.Name, name)
	}
	return e.T
}

func (c *fixtureCase) has(name string) bool { return c.Expected.Get(name) != nil }

func ints(t *nn.Tensor) []int {
	out := make([]int, len(t.Data))
	for i, v := range t.Data {
		out[i] = int(v)
	}
	return out
}

// assertClose fails when got and want differ in shape or by more than tol
// anywhere, reporting the largest difference and where it is.
func assertClose(t testing.TB, what string, got, want *nn.Tensor, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: missing output", what)
		return
	}
	if !nn.SameShape(got.Shape, want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape, want.Shape)
		return
	}
	worst, at := 0.0, 0
	for i := range got.Data {
		d := math.Abs(float64(got.Data[i]) - float64(want.Data[i]))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if worst > tol || math.IsNaN(worst) {
		t.Errorf("%s: max |diff| %.3g at %d (got %g, want %g), tolerance %g", what, worst, at, got.Data[at], want.Data[at], tol)
	} else {
		t.Logf("%s: max |diff| %.3g", what, worst)
	}
}

// checkParity runs both reference forward passes through g.
func checkParity(t *testing.T, c *fixtureCase, g *Generator) {
	graphs, err := ParseGraphs(c.Graphs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(graphs, g.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(b.Objs), fmt.Sprint(ints(c.want(t, "input.objs"))); got != want {
		t.Fatalf("objs %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(b.ObjToImg), fmt.Sprint(ints(c.want(t, "input.obj_to_img"))); got != want {
		t.Fatalf("obj_to_img %s, want %s", got, want)
	}
	var flat []int
	for _, tr := range b.Triples {
		flat = append(flat, tr[:]...)
	}
	if got, want := fmt.Sprint(flat), fmt.Sprint(ints(c.want(t, "input.triples"))); got != want {
		t.Fatalf("triples %s, want %s", got, want)
	}

	opt := Options{}
	if c.has("eval.noise") {
		opt.Noise = c.want(t, "eval.noise")
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
		if c.has(k.name) {
			assertClose(t, k.name, k.got, c.want(t, k.name), parityTol)
		} else if k.got != nil {
			t.Errorf("%s: produced, but the reference has none", k.name)
		}
	}

	opt = Options{Boxes: c.want(t, "input.boxes_gt")}
	if c.has("input.masks_gt") {
		opt.Masks = c.want(t, "input.masks_gt")
	}
	if c.has("gt_layout.noise") {
		opt.Noise = c.want(t, "gt_layout.noise")
	}
	out, err = g.Forward(b, opt)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "gt_layout.img", out.Img, c.want(t, "gt_layout.img"), parityTol)
}

func TestParity(t *testing.T) {
	for _, name := range parityCases {
		c := loadCase(t, name)
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
