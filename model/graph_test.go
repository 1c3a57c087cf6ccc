package model

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/internal/fixture"
)

func tinyVocab() *Vocab {
	return NewVocab(
		[]string{"sky", "grass", "sheep", "tree", "ocean", "person", "cloud", "road", "car", "house"},
		[]string{"left of", "right of", "above", "below", "inside", "surrounding"})
}

func TestParseGraphsErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "  ", "empty input"},
		{"empty list", "[]", "list is empty"},
		{"syntax", `{"objects": ["sky" "grass"]}`, "line 1, column"},
		{"syntax on line 2", "{\"objects\": [\"sky\"],\n \"relationships\": [[0, \"above\" 1]]}", "line 2"},
		{"no objects", `{"objects": [], "relationships": []}`, "no objects"},
		{"index out of range", `{"objects": ["sky"], "relationships": [[0, "above", 1]]}`, "index 1 out of range"},
		{"negative index", `{"objects": ["sky", "sea"], "relationships": [[-1, "above", 1]]}`, "index -1 out of range"},
		{"short triple", `{"objects": ["sky"], "relationships": [[0, "above"]]}`, "want [subject index"},
		{"string index", `{"objects": ["sky"], "relationships": [["0", "above", 0]]}`, "not an integer index"},
		{"numeric predicate", `{"objects": ["sky"], "relationships": [[0, 3, 0]]}`, "not a string"},
		{"unknown field", `{"objects": ["sky"], "relations": []}`, "unknown field"},
		{"trailing data", `{"objects": ["sky"]} {}`, "extra data"},
		{"second graph bad", `[{"objects": ["sky"]}, {"objects": []}]`, "graph 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGraphs([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestEncodeAddsImageObjectAndTriples(t *testing.T) {
	v := tinyVocab()
	graphs, err := ParseGraphs([]byte(`[
		{"objects": ["sky", "grass"], "relationships": [[0, "above", 1]]},
		{"objects": ["ocean"], "relationships": []}]`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(graphs, v)
	if err != nil {
		t.Fatal(err)
	}
	img, sky, grass, ocean := v.ObjectNameToIdx[ImageObject], v.ObjectNameToIdx["sky"], v.ObjectNameToIdx["grass"], v.ObjectNameToIdx["ocean"]
	wantObjs := []int{sky, grass, img, ocean, img}
	wantImg := []int{0, 0, 0, 1, 1}
	above, in := v.PredNameToIdx["above"], v.PredNameToIdx[InImagePred]
	wantTriples := [][3]int{{0, above, 1}, {0, in, 2}, {1, in, 2}, {3, in, 4}}
	if !slices.Equal(b.Objs, wantObjs) || !slices.Equal(b.ObjToImg, wantImg) || b.NumImages != 2 {
		t.Errorf("objs %v obj_to_img %v, want %v %v", b.Objs, b.ObjToImg, wantObjs, wantImg)
	}
	if len(b.Triples) != len(wantTriples) {
		t.Fatalf("triples %v, want %v", b.Triples, wantTriples)
	}
	for i := range wantTriples {
		if b.Triples[i] != wantTriples[i] {
			t.Errorf("triple %d = %v, want %v", i, b.Triples[i], wantTriples[i])
		}
	}
}

func TestUnknownWordSuggestions(t *testing.T) {
	v := tinyVocab()
	for _, tc := range []struct {
		graph, word, suggest string
	}{
		{`{"objects": ["sky", "grss"]}`, `"grss"`, `"grass"`},
		{`{"objects": ["Sheep"]}`, `"Sheep"`, `"sheep"`},
		{`{"objects": ["sky", "sea"], "relationships": [[0, "abov", 1]]}`, `"sea"`, ""},
		{`{"objects": ["sky", "tree"], "relationships": [[0, "left", 1]]}`, `"left"`, `"left of"`},
	} {
		graphs, err := ParseGraphs([]byte(tc.graph))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Encode(graphs, v)
		var uw *UnknownWordError
		if !errors.As(err, &uw) {
			t.Fatalf("%s: error %v, want an UnknownWordError", tc.graph, err)
		}
		if !strings.Contains(err.Error(), tc.word) {
			t.Errorf("error %q does not name %s", err, tc.word)
		}
		if tc.suggest != "" && !strings.Contains(err.Error(), "did you mean "+tc.suggest) {
			t.Errorf("error %q does not suggest %s", err, tc.suggest)
		}
		if tc.suggest == "" && len(uw.Suggestions) != 0 {
			t.Errorf("error %q suggests unrelated words", err)
		}
	}
}

func FuzzParseGraphs(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "graphs", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, c := range parityCases {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", c+".json"))
		var fc fixture.Case
		if err == nil && json.Unmarshal(raw, &fc) == nil {
			f.Add([]byte(fc.Graphs))
		}
	}
	v := tinyVocab()
	f.Fuzz(func(t *testing.T, data []byte) {
		graphs, err := ParseGraphs(data)
		if err != nil {
			if graphs != nil {
				t.Fatal("graphs returned with an error")
			}
			return
		}
		b, err := Encode(graphs, v)
		if err != nil {
			return
		}
		// An encoded batch always satisfies the generator's own checks.
		for _, tr := range b.Triples {
			if tr[0] < 0 || tr[0] >= len(b.Objs) || tr[2] < 0 || tr[2] >= len(b.Objs) {
				t.Fatalf("triple %v outside %d objects", tr, len(b.Objs))
			}
		}
		if len(b.Objs) != len(b.ObjToImg) || b.NumImages != len(graphs) {
			t.Fatal("inconsistent batch")
		}
	})
}
