package ui

import (
	"testing"

	"github.com/sg2im-go/sg2im/data/world"
	"github.com/sg2im-go/sg2im/model"
)

func TestGallery(t *testing.T) {
	v := model.NewVocab(
		[]string{"sky", "grass", "sheep", "tree", "ocean", "person", "cloud", "road", "car", "house"},
		[]string{"left of", "right of", "above", "below", "inside", "surrounding"})
	got := Gallery(v)
	if len(got) < 4 {
		t.Fatalf("%d examples for the shipped vocabulary, want at least 4", len(got))
	}
	for _, ex := range got {
		g, err := model.ParseText(ex.Text, v.Predicates())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := model.Encode([]model.SceneGraph{g}, v); err != nil {
			t.Errorf("%s: %v", ex.Title, err)
		}
	}
	if n := len(Gallery(world.NewVocab())); n < 5 {
		t.Errorf("%d examples for the world's vocabulary, want at least 5", n)
	}
	other := model.NewVocab([]string{"zebra", "savanna", "acacia"}, []string{"near"})
	fallback := Gallery(other)
	if len(fallback) != 1 {
		t.Fatalf("fallback gallery %v", fallback)
	}
	g, err := model.ParseText(fallback[0].Text, other.Predicates())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Encode([]model.SceneGraph{g}, other); err != nil {
		t.Errorf("fallback example does not encode: %v", err)
	}
}

func TestLayoutGraph(t *testing.T) {
	g := model.SceneGraph{
		Objects:       []string{"sky", "grass", "sheep"},
		Relationships: []model.Relationship{{Subject: 0, Predicate: "above", Object: 1}, {Subject: 2, Predicate: "inside", Object: 1}, {Subject: 2, Predicate: "left of", Object: 1}, {Subject: 1, Predicate: "below", Object: 1}},
	}
	d := layoutGraph(g)
	if len(d.Objects) != 3 || len(d.Preds) != 4 {
		t.Fatalf("%d objects, %d predicates", len(d.Objects), len(d.Preds))
	}
	for _, n := range append(d.Objects, d.Preds...) {
		if n.X < 0 || n.X > d.W || n.Y < 0 || n.Y > d.H {
			t.Errorf("node %q at (%g, %g) outside the drawing", n.Label, n.X, n.Y)
		}
	}
	if d.Preds[1].X == d.Preds[2].X && d.Preds[1].Y == d.Preds[2].Y {
		t.Error("two predicates between the same objects overlap")
	}
}
