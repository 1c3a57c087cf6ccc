package model

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

var textPreds = []string{"__in_image__", "left of", "right of", "above", "below", "inside", "surrounding", "on", "standing on"}

func TestParseText(t *testing.T) {
	g, err := ParseText("sheep standing on grass, sky above grass;\n tree   left of sheep; cloud", textPreds)
	if err != nil {
		t.Fatal(err)
	}
	want := SceneGraph{
		Objects: []string{"sheep", "grass", "sky", "tree", "cloud"},
		Relationships: []Relationship{
			{0, "standing on", 1}, {2, "above", 1}, {3, "left of", 0},
		},
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("got %+v\nwant %+v", g, want)
	}
	if err := g.Check(); err != nil {
		t.Error(err)
	}
}

func TestTextRoundTrip(t *testing.T) {
	for _, src := range []string{
		"sheep on grass; sheep#2 left of sheep; sky above grass",
		"sky",
		"person on road; car left of person; car#2 right of person; cloud; cloud#2",
		"tall tree left of small house",
	} {
		g, err := ParseText(src, textPreds)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if got := FormatText(g); got != src {
			t.Errorf("round trip %q -> %q", src, got)
		}
		g2, err := ParseText(FormatText(g), textPreds)
		if err != nil || !reflect.DeepEqual(g, g2) {
			t.Errorf("%q: graph changed on round trip: %+v vs %+v (%v)", src, g, g2, err)
		}
	}
	// Lists written by hand (repeated names, objects in no relationship)
	// survive a trip through text.
	g := SceneGraph{Objects: []string{"sheep", "sheep", "grass"}, Relationships: []Relationship{{1, "on", 2}}}
	back, err := ParseText(FormatText(g), textPreds)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Objects) != 3 || len(back.Relationships) != 1 {
		t.Errorf("%q parsed to %+v", FormatText(g), back)
	}
}

func TestParseTextErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "no objects"},
		{" ; , ", "no objects"},
		{"#2 on grass", "no object name"},
		{"a#b#2", "instance number"},
	} {
		_, err := ParseText(tc.in, textPreds)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range []string{"sheep on grass; sky above grass", "a#2 left of a", "x, y\nz on w", "#", "on on on"} {
		f.Add(s)
	}
	v := tinyVocab()
	f.Fuzz(func(t *testing.T, s string) {
		// Checked against a vocabulary: a graph of known words, or an
		// error placed in the text.
		if vg, err := v.ParseText(s); err == nil {
			if _, err := Encode([]SceneGraph{vg}, v); err != nil {
				t.Fatalf("%q parsed with the vocabulary but does not encode: %v", s, err)
			}
		} else if ge, ok := errors.AsType[*GraphError](err); !ok || ge.Field != FieldText {
			t.Fatalf("%q: error %v is not a GraphError about the text", s, err)
		}
		g, err := ParseText(s, textPreds)
		if err != nil {
			return
		}
		if err := g.Check(); err != nil {
			t.Fatalf("%q parsed to an invalid graph: %v", s, err)
		}
		g2, err := ParseText(FormatText(g), textPreds)
		if err != nil {
			t.Fatalf("formatted %q does not parse: %v", FormatText(g), err)
		}
		if len(g2.Relationships) != len(g.Relationships) || len(g2.Objects) != len(g.Objects) {
			t.Fatalf("%q -> %q changed the graph", s, FormatText(g))
		}
	})
}
