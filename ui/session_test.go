package ui

import (
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/viz"
)

var testPreds = []string{"left of", "right of", "above", "below", "inside", "surrounding"}

func sheepSession() Session {
	s := Session{Seed: 7, Graph: model.SceneGraph{
		Objects:       []string{"sky", "grass", "sheep"},
		Relationships: []model.Relationship{{Subject: 0, Predicate: "above", Object: 1}, {Subject: 2, Predicate: "inside", Object: 1}}}}
	s.Pin(2, [4]float32{0.1, 0.5, 0.4, 0.9})
	return s
}

func TestFragmentRoundTrip(t *testing.T) {
	s := sheepSession()
	frag := s.Fragment(testPreds)
	if !strings.Contains(frag, "scene=sky+above+grass;+sheep+inside+grass") || !strings.Contains(frag, "pin=2:0.1,0.5,0.4,0.9") {
		t.Errorf("fragment %q is not the readable form", frag)
	}
	got, ok, err := ParseFragment("#"+frag, testPreds)
	if err != nil || !ok || !got.Equal(s) {
		t.Fatalf("read back %+v, %v, %v; want %+v", got, ok, err, s)
	}
	// An order the one-line syntax cannot keep travels as JSON.
	s.Graph = model.SceneGraph{Objects: []string{"grass", "sky"}, Relationships: []model.Relationship{{Subject: 1, Predicate: "above", Object: 0}}}
	s.Unpin(-1)
	frag = s.Fragment(testPreds)
	if !strings.HasPrefix(frag, "graph=") {
		t.Errorf("reordered scene written as %q", frag)
	}
	if got, _, err := ParseFragment(frag, testPreds); err != nil || !got.Equal(s) {
		t.Errorf("read back %+v, %v", got, err)
	}
}

func TestParseFragmentErrors(t *testing.T) {
	for frag, want := range map[string]string{
		"scene=sky&seed=-1":           "seed",
		"scene=sky&pin=3:0,0,1,1":     "object number",
		"scene=sky&pin=0:0,0,1":       "four numbers",
		"scene=sky&pin=0:0.5,0,0.2,1": "ends before it starts",
		"scene=sky&pin=0:0,0,NaN,1":   "from 0 to 1",
		"scene=%zz":                   "garbled",
		"graph={\"objects\":[]}":      "scene in the address",
	} {
		if _, _, err := ParseFragment(frag, testPreds); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", frag, err, want)
		}
	}
	if _, ok, err := ParseFragment("#other=1", testPreds); ok || err != nil {
		t.Errorf("a fragment without a scene: ok %v, err %v", ok, err)
	}
}

func FuzzParseFragment(f *testing.F) {
	f.Add(sheepSession().Fragment(testPreds))
	f.Add("graph=%7B%22objects%22%3A%5B%22sky%22%5D%7D&pin=0:0,0,1,1")
	f.Add("scene=sky;+sea&look=1:17")
	f.Fuzz(func(t *testing.T, frag string) {
		s, ok, err := ParseFragment(frag, testPreds)
		if err != nil || !ok {
			return
		}
		for i, b := range s.pins() {
			if i >= len(s.Graph.Objects) || checkBox(b) != nil {
				t.Fatalf("accepted pin %d %v for %d objects", i, b, len(s.Graph.Objects))
			}
		}
		for i := range s.Looks {
			if i < 0 || i >= len(s.Graph.Objects) {
				t.Fatalf("accepted a look for object %d of %d", i, len(s.Graph.Objects))
			}
		}
	})
}

func TestSessionFile(t *testing.T) {
	s := sheepSession()
	b := MarshalSession(s)
	if !strings.Contains(string(b), `"seed": 7`) || !strings.Contains(string(b), "null") {
		t.Errorf("exported %s", b)
	}
	got, n, hasSeed, err := ParseSession(b)
	if err != nil || n != 1 || !hasSeed || !got.Equal(s) {
		t.Fatalf("read back %+v %d %v %v", got, n, hasSeed, err)
	}
	// A plain scene-graph file (the command line's) still reads.
	got, n, hasSeed, err = ParseSession([]byte(`[{"objects": ["sky"], "relationships": []}, {"objects": ["sea"]}]`))
	if err != nil || n != 2 || hasSeed || got.Graph.Objects[0] != "sky" {
		t.Errorf("plain file: %+v %d %v %v", got, n, hasSeed, err)
	}
	for in, want := range map[string]string{
		`{"objects": ["sky"], "seed": 1, "boxes": [null, null]}`:       "2 boxes for 1 objects",
		`{"objects": ["sky"], "seed": 1, "boxes": [[0.5, 0, 0.1, 1]]}`: "ends before",
		`{"objects": [], "seed": 1}`:                                   "scene graphs",
	} {
		if _, _, _, err := ParseSession([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
}

func FuzzParseSession(f *testing.F) {
	f.Add(MarshalSession(sheepSession()))
	f.Add([]byte(`{"objects": ["sky"], "seed": 1, "boxes": [null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _, _, err := ParseSession(data)
		if err != nil {
			return
		}
		if s.Graph.Check() != nil {
			t.Fatal("accepted an invalid graph")
		}
	})
}

func TestPins(t *testing.T) {
	s := sheepSession()
	old := s.Graph.Objects
	s.Graph.Objects = []string{"sky", "grass", "sheep", "tree"}
	s.KeepPins(old)
	if s.PinnedCount() != 1 || !s.Pinned[2] {
		t.Errorf("adding an object lost the pin: %+v", s)
	}
	s.Graph.Objects = []string{"tree", "sheep", "sky"}
	s.KeepPins([]string{"sky", "grass", "sheep", "tree"})
	if s.PinnedCount() != 1 || !s.Pinned[1] {
		t.Errorf("the sheep's pin did not follow it to index 1: %+v", s)
	}
	s.Graph.Objects = []string{"tree", "sky"}
	s.KeepPins([]string{"tree", "sheep", "sky"})
	if s.PinnedCount() != 0 {
		t.Errorf("a pin outlived its object: %+v", s)
	}
	s = sheepSession()
	s.Pin(0, [4]float32{0, 0, 1, 0.3})
	s.Unpin(2)
	if boxes, pinned := s.Request(); len(boxes) != 3 || !pinned[0] || pinned[2] {
		t.Errorf("after unpinning one: %v %v", boxes, pinned)
	}
	s.Unpin(-1)
	if boxes, _ := s.Request(); boxes != nil {
		t.Error("unpin all left boxes")
	}
}

func TestHistory(t *testing.T) {
	var h History
	a := Session{Seed: 1}
	b := Session{Seed: 2}
	c := Session{Seed: 3}
	h.Record(a, "text", 0)
	h.Record(b, "text", 500) // typing on: one step
	got, ok := h.Undo(c)
	if !ok || got.Seed != 1 {
		t.Fatalf("undo gave %v %v, want the state before the typing", got.Seed, ok)
	}
	if got, ok := h.Redo(got); !ok || got.Seed != 3 {
		t.Errorf("redo gave %v", got.Seed)
	}
	h.Record(c, "text", 5000) // a pause: a new step
	h.Record(c, "", 5001)
	h.Record(c, "", 5002) // kind "" never merges
	if len(h.past) != 4 || h.CanRedo() {
		t.Errorf("%d steps, redo %v", len(h.past), h.CanRedo())
	}
	// Entries are copies: editing the current session does not change them.
	s := sheepSession()
	h.Record(s, "", 6000)
	s.Graph.Objects[0] = "sea"
	if got, _ := h.Undo(s); got.Graph.Objects[0] != "sky" {
		t.Error("a history entry shares its slices with the live session")
	}
}

func TestInnermostBox(t *testing.T) {
	boxes := [][4]float32{{0, 0.4, 1, 1}, {0, 0, 1, 0.5}, {0.2, 0.6, 0.4, 0.8}}
	for _, tc := range []struct {
		x, y float32
		want int
	}{{0.3, 0.7, 2}, {0.9, 0.9, 0}, {0.5, 0.45, 1}, {0.5, 0.1, 1}, {1.5, 0.5, -1}} {
		if got := innermostBox(boxes, tc.x, tc.y); got != tc.want {
			t.Errorf("(%v, %v): box %d, want %d", tc.x, tc.y, got, tc.want)
		}
	}
}

// Labels on the object colours pick the ink that reads: at least 4.5:1.
func TestLabelInk(t *testing.T) {
	for i := 0; i < 64; i++ {
		c := viz.Color(i)
		w, b := contrastWithWhite(c.R, c.G, c.B), contrastWithBlack(c.R, c.G, c.B)
		if max(w, b) < 4.5 {
			t.Errorf("colour %d %v: white %.2f, black %.2f", i, c, w, b)
		}
	}
}

func TestForBrowser(t *testing.T) {
	for in, want := range map[string]string{
		"unknown object \"qqq\"; this model does not know it (run `sg2im inspect` on the model to list its words)": "unknown object \"qqq\"; this model does not know it (the Words panel lists those it knows)",
		"scene graphs: json: cannot unmarshal string into Go struct field SceneGraph.objects of type []string":     "scene graphs: json: cannot unmarshal string into objects of type []string",
	} {
		if got := forBrowser(in); got != want {
			t.Errorf("forBrowser(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLooks: an object's own look travels in the address and the file,
// follows its object through a retyped scene, a move and a removal, and
// reaches the request as one seed per object.
func TestLooks(t *testing.T) {
	s := sheepSession()
	s.NewLook(2, 17)
	s.NewLook(0, 5)
	if frag := s.Fragment(testPreds); !strings.Contains(frag, "look=0:5;2:17") {
		t.Errorf("fragment %q lacks the looks", frag)
	}
	got, _, err := ParseFragment(s.Fragment(testPreds), testPreds)
	if err != nil || !got.Equal(s) {
		t.Errorf("address read back %+v, %v", got, err)
	}
	b := MarshalSession(s)
	if !strings.Contains(string(b), `"appearance_seeds": [`) {
		t.Errorf("exported %s", b)
	}
	if got, _, _, err := ParseSession(b); err != nil || !got.Equal(s) {
		t.Errorf("file read back %+v, %v", got, err)
	}
	seeds := s.AppearanceSeeds()
	if len(seeds) != 3 || *seeds[0] != 5 || seeds[1] != nil || *seeds[2] != 17 {
		t.Errorf("request seeds %v", seeds)
	}
	other := s.Clone()
	other.NewLook(2, 18)
	if other.Equal(s) || s.Looks[2] != 17 {
		t.Error("a new look is not an edit, or the clone shares its looks")
	}
	old := s.Graph.Objects
	s.Graph.Objects = []string{"tree", "sheep", "sky"}
	s.KeepPins(old)
	if len(s.Looks) != 2 || s.Looks[1] != 17 || s.Looks[2] != 5 {
		t.Errorf("looks did not follow their objects: %v", s.Looks)
	}
	s.SwapLooks(1, 0)
	if s.Looks[0] != 17 || s.Looks[2] != 5 || len(s.Looks) != 2 {
		t.Errorf("swapped looks %v", s.Looks)
	}
	s.RemoveLook(1)
	if s.Looks[0] != 17 || s.Looks[1] != 5 || len(s.Looks) != 2 {
		t.Errorf("looks after removing object 1: %v", s.Looks)
	}
	if (Session{Graph: s.Graph}).AppearanceSeeds() != nil {
		t.Error("a session without looks sends appearance seeds")
	}
	for frag, want := range map[string]string{
		"scene=sky&look=1:3":  "object number",
		"scene=sky&look=0:-3": "whole number",
	} {
		if _, _, err := ParseFragment(frag, testPreds); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", frag, err, want)
		}
	}
}
