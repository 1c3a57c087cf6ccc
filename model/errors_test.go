package model

import (
	"errors"
	"strings"
	"testing"
)

// TestGraphErrorsAreTyped checks each structural fault names its kind,
// field and index, so no caller has to guess them from the message.
func TestGraphErrorsAreTyped(t *testing.T) {
	many := `{"objects": ["sky"], "relationships": [` + strings.Repeat(`[0, "above", 0],`, MaxTriplesPerGraph) + `[0, "above", 0]]}`
	for _, tc := range []struct {
		name, in string
		kind     ErrorKind
		field    string
		graph    int
		index    int
		want     string
	}{
		{"too many relationships", many, ErrTooMany, FieldRelationships, -1, -1, "4097 relationships, at most 4096"},
		{"no objects", `{"objects": []}`, ErrEmpty, FieldObjects, -1, -1, "no objects"},
		{"index", `{"objects": ["sky"], "relationships": [[0, "above", 0], [0, "above", 2]]}`, ErrIndex, FieldRelationships, -1, 1, "relationship 1: [0, \"above\", 2]: index 2 out of range"},
		{"second graph", `[{"objects": ["sky"]}, {"objects": ["sky"], "relationships": [[5, "above", 0]]}]`, ErrIndex, FieldRelationships, 1, 0, "graph 1, relationship 0:"},
		{"objects a string", `{"objects": "sky grass"}`, ErrShape, FieldObjects, -1, -1, `"objects" must be a list of words`},
		{"object a number", `{"objects": ["sky", 3]}`, ErrShape, FieldObjects, -1, -1, `each object must be a word in quotes, like "sheep"; found a number`},
		{"relationships an object", `{"objects": ["sky"], "relationships": {}}`, ErrShape, FieldRelationships, -1, -1, `"relationships" must be a list of [subject index, "predicate", object index]; found an object`},
		{"short triple", `{"objects": ["sky"], "relationships": [[0, "above"]]}`, ErrShape, FieldRelationships, -1, -1, "want [subject index"},
		{"graph a string", `"sky"`, ErrShape, "", -1, -1, "a scene graph must be a JSON object"},
		{"list of numbers", `[1]`, ErrShape, "", -1, -1, "found a number"},
		{"unknown field", `{"objects": ["sky"], "relations": []}`, ErrShape, "", -1, -1, `unknown field "relations"; a graph has only "objects" and "relationships"`},
		{"syntax", `{"objects": ["sky" "grass"]}`, ErrSyntax, "", -1, -1, "line 1, column 21: invalid character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGraphs([]byte(tc.in))
			var ge *GraphError
			if !errors.As(err, &ge) {
				t.Fatalf("error %v (%T), want a *GraphError", err, err)
			}
			if ge.Kind != tc.kind || ge.Field != tc.field || ge.Graph != tc.graph || ge.Index != tc.index {
				t.Errorf("kind %d field %q graph %d index %d, want %d %q %d %d", ge.Kind, ge.Field, ge.Graph, ge.Index, tc.kind, tc.field, tc.graph, tc.index)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "Go ") || strings.Contains(msg, "model.") || strings.Contains(msg, "[]") {
				t.Errorf("message %q, want %q and no Go type names", msg, tc.want)
			}
		})
	}
}

func TestEncodeErrorsAreTyped(t *testing.T) {
	v := tinyVocab()
	for _, tc := range []struct {
		in    string
		field string
		graph int
		index int
		word  string
	}{
		{`[{"objects": ["sky"]}, {"objects": ["sky", "grss"]}]`, FieldObjects, 1, 1, "grss"},
		{`{"objects": ["sky", "grass"], "relationships": [[0, "above", 1], [0, "near", 1]]}`, FieldRelationships, 0, 1, "near"},
	} {
		graphs, err := ParseGraphs([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Encode(graphs, v)
		var ge *GraphError
		var uw *UnknownWordError
		if !errors.As(err, &ge) || !errors.As(err, &uw) {
			t.Fatalf("%s: error %v, want a GraphError with an UnknownWordError", tc.in, err)
		}
		if ge.Kind != ErrUnknownWord || ge.Field != tc.field || ge.Graph != tc.graph || ge.Index != tc.index || uw.Word != tc.word {
			t.Errorf("%s: %+v (word %q)", tc.in, ge, uw.Word)
		}
	}
}

// TestVocabParseText checks a clause with an unknown predicate is reported
// as one, not as an unknown object named after the whole clause.
func TestVocabParseText(t *testing.T) {
	v := tinyVocab()
	for _, tc := range []struct {
		in, kind, word, want string
	}{
		{"sheep near grass", "predicate", "near", `unknown predicate "near"`},
		{"sky above grass; sheep lefft of tree", "predicate", "lefft of", `did you mean "left of"`},
		{"sheep on top of grass", "predicate", "on top of", `as in "sheep above grass"`},
		{"sky above grss", "object", "grss", `did you mean "grass"`},
		{"unicorn", "object", "unicorn", `unknown object "unicorn"`},
	} {
		_, err := v.ParseText(tc.in)
		var ge *GraphError
		var uw *UnknownWordError
		if !errors.As(err, &ge) || !errors.As(err, &uw) {
			t.Fatalf("%q: error %v, want a GraphError with an UnknownWordError", tc.in, err)
		}
		if ge.Field != FieldText || ge.Kind != ErrUnknownWord || uw.Kind != tc.kind || uw.Word != tc.word || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v (field %q, %s %q), want %s %q and %q", tc.in, err, ge.Field, uw.Kind, uw.Word, tc.kind, tc.word, tc.want)
		}
	}
	g, err := v.ParseText("sheep inside grass; sky above grass")
	if err != nil || len(g.Objects) != 3 || len(g.Relationships) != 2 {
		t.Errorf("valid text: %+v, %v", g, err)
	}
	if _, err := v.ParseText(""); err == nil {
		t.Error("empty text parsed")
	} else if ge := (*GraphError)(nil); !errors.As(err, &ge) || ge.Kind != ErrEmpty || ge.Field != FieldText {
		t.Errorf("empty text: %v", err)
	}
}

// TestVocabParseTextLongClause checks a long clause between two known
// objects is one unknown predicate, named in a message of sensible length.
func TestVocabParseTextLongClause(t *testing.T) {
	long := "sheep " + strings.Repeat("very ", 100000) + "near grass"
	_, err := tinyVocab().ParseText(long)
	var uw *UnknownWordError
	if !errors.As(err, &uw) || uw.Kind != "predicate" || len(err.Error()) > 400 {
		t.Errorf("error %.500v (%d bytes), want an unknown predicate, clipped", err, len(err.Error()))
	}
	_, err = tinyVocab().ParseText("sheep " + strings.Repeat("very ", 2) + "near grass")
	if !errors.As(err, &uw) || uw.Kind != "predicate" || uw.Word != "very very near" {
		t.Errorf("error %v, want the unknown predicate \"very very near\"", err)
	}
}
