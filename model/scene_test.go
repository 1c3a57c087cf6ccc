package model

import (
	"errors"
	"strings"
	"testing"
)

// TestParseScenes: the app's exported file reads back with its seed, pins
// and appearance seeds; a plain graph file reads as before; faults in the
// added fields are named; ParseGraphs still refuses the added fields.
func TestParseScenes(t *testing.T) {
	exported := `{"objects": ["sky", "grass", "sheep"], "relationships": [[0, "above", 1]],
		"seed": 3, "boxes": [null, null, [0.1, 0.5, 0.4, 0.9]], "appearance_seeds": [null, 17, null]}`
	ss, err := ParseScenes([]byte(exported))
	if err != nil {
		t.Fatal(err)
	}
	s := ss[0]
	if len(ss) != 1 || s.Seed == nil || *s.Seed != 3 || len(s.Objects) != 3 || len(s.Relationships) != 1 ||
		s.AppearanceSeeds[0] != nil || s.AppearanceSeeds[1] == nil || *s.AppearanceSeeds[1] != 17 {
		t.Fatalf("parsed %+v", ss)
	}
	boxes, pinned := s.Pins()
	if pinned[0] || pinned[1] || !pinned[2] || boxes[2] != [4]float32{0.1, 0.5, 0.4, 0.9} {
		t.Errorf("pins %v %v", boxes, pinned)
	}
	ss, err = ParseScenes([]byte(`[{"objects": ["sky"]}, {"objects": ["sea"], "seed": 9}]`))
	if err != nil || len(ss) != 2 || ss[0].Seed != nil || *ss[1].Seed != 9 {
		t.Fatalf("list: %+v, %v", ss, err)
	}
	if b, p := ss[0].Pins(); b != nil || p != nil {
		t.Errorf("a scene without boxes has pins %v %v", b, p)
	}
	if _, err := ParseGraphs([]byte(exported)); err == nil || !strings.Contains(err.Error(), `unknown field "seed"`) {
		t.Errorf("ParseGraphs on an exported scene: %v", err)
	}
	for _, c := range []struct{ in, field, want string }{
		{`{"objects": ["sky"], "color": 1}`, "", `unknown field "color"; a scene has "objects", "relationships" and, as the app exports them, "seed"`},
		{`{"objects": ["sky"], "seed": -1}`, FieldSeed, `"seed" must be a whole number`},
		{`{"objects": ["sky"], "seed": "3"}`, FieldSeed, `"seed" must be a whole number`},
		{`{"objects": ["sky", "sea"], "boxes": [null]}`, FieldBoxes, "1 boxes for 2 objects"},
		{`{"objects": ["sky"], "boxes": [[0.5, 0, 0.2, 1]]}`, FieldBoxes, "box 0: [0.5 0 0.2 1]: the box ends before it starts"},
		{`{"objects": ["sky"], "boxes": [[0, 0, 2, 1]]}`, FieldBoxes, "coordinates must be from 0 to 1"},
		{`{"objects": ["sky"], "boxes": [1]}`, FieldBoxes, `"boxes" must be a list of [x0, y0, x1, y1] or null`},
		{`{"objects": ["sky"], "appearance_seeds": [1, 2]}`, FieldAppearanceSeeds, "2 appearance seeds for 1 objects"},
		{`{"objects": ["sky"], "appearance_seeds": ["a"]}`, FieldAppearanceSeeds, `"appearance_seeds" must be a list of whole numbers or null`},
		{`[{"objects": ["sky"]}, {"objects": ["sky"], "boxes": [[0, 0, 0, 0]]}]`, FieldBoxes, "graph 1, box 0"},
	} {
		_, err := ParseScenes([]byte(c.in))
		var ge *GraphError
		if !errors.As(err, &ge) || ge.Field != c.field || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (field %q), want %q in field %q", c.in, err, fieldOf(ge), c.want, c.field)
		}
	}
}

func fieldOf(ge *GraphError) string {
	if ge == nil {
		return "<no GraphError>"
	}
	return ge.Field
}

// FuzzParseScenes: whatever ParseScenes accepts is a checked scene whose
// graph ParseGraphs takes too and whose pins are boxes inside the image.
func FuzzParseScenes(f *testing.F) {
	f.Add([]byte(`{"objects": ["sky", "grass", "sheep"], "relationships": [[0, "above", 1]], "seed": 3, "boxes": [null, null, [0.1, 0.5, 0.4, 0.9]], "appearance_seeds": [null, 17, null]}`))
	f.Add([]byte(`[{"objects": ["sky"]}, {"objects": ["sea"], "seed": 9}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, err := ParseScenes(data)
		if err != nil {
			return
		}
		for _, s := range ss {
			if err := s.SceneGraph.Check(); err != nil {
				t.Fatalf("accepted a graph that fails its check: %v", err)
			}
			boxes, pinned := s.Pins()
			if pinned != nil && len(pinned) != len(s.Objects) {
				t.Fatalf("%d pins for %d objects", len(pinned), len(s.Objects))
			}
			for i, b := range boxes {
				if pinned[i] && !(b[0] >= 0 && b[2] <= 1 && b[0] < b[2] && b[1] >= 0 && b[3] <= 1 && b[1] < b[3]) {
					t.Fatalf("pinned box %v", b)
				}
			}
			if s.AppearanceSeeds != nil && len(s.AppearanceSeeds) != len(s.Objects) {
				t.Fatalf("%d appearance seeds for %d objects", len(s.AppearanceSeeds), len(s.Objects))
			}
		}
	})
}
