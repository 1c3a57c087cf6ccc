package protocol

import (
	"errors"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/model"
)

func TestDecodeBenchRequest(t *testing.T) {
	r, err := DecodeRequest([]byte(`{"v": 1, "id": 4, "kind": "bench", "bench": {"config": "coco64", "warmup_s": 20, "reps": 9}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != 4 || r.Bench == nil || *r.Bench != (BenchRequest{Config: "coco64", WarmupS: 20, Reps: 9}) {
		t.Errorf("decoded %+v", r)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"v": 1, "kind": "bench"}`, "without a bench field"},
		{`{"v": 1, "kind": "bench", "bench": {"config": "coco65", "reps": 1}}`, `config "coco65"`},
		{`{"v": 1, "kind": "bench", "bench": {"config": "loaded", "reps": 0}}`, "reps 0"},
		{`{"v": 1, "kind": "bench", "bench": {"config": "vg128", "reps": 1001}}`, "reps 1001"},
		{`{"v": 1, "kind": "bench", "bench": {"config": "x256", "reps": 1, "warmup_s": -1}}`, "warmup_s -1"},
		{`{"v": 1, "kind": "bench", "bench": {"config": "x256", "reps": 1, "warmup_s": 601}}`, "warmup_s 601"},
	} {
		if _, err := DecodeRequest([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.in, err, tc.want)
		}
	}
}

func TestBenchResponseRoundTrip(t *testing.T) {
	b := Encode(Response{V: Version, ID: 2, Kind: KindBench, Bench: &BenchResult{Config: "coco64", MedianMs: 1.5}})
	for _, want := range []string{`"kind":"bench"`, `"median_ms":1.5`, `"layers":null`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}

// TestDecodeGraphErrorsInWords checks a malformed graph in a generate
// request (the widget's graph attribute, written by a person) is described
// in a graph's words and keeps the request's ID.
func TestDecodeGraphErrorsInWords(t *testing.T) {
	for _, tc := range []struct{ graph, field, want string }{
		{`{"objects": "sky grass"}`, "objects", `"objects" must be a list of words`},
		{`{"objects": ["sky", 3]}`, "objects", `each object must be a word in quotes, like "sheep"; found a number`},
		{`{"objects": ["sky"], "relationships": [[0, "above"]]}`, "relationships", `want [subject index, "predicate", object index]`},
		{`{"objects": ["sky"], "relationships": "above"}`, "relationships", `"relationships" must be a list`},
		{`"sky"`, "", "a scene graph must be a JSON object"},
	} {
		r, err := DecodeRequest([]byte(`{"v": 1, "id": 7, "kind": "generate", "generate": {"graph": ` + tc.graph + `}}`))
		var ge *model.GraphError
		if !errors.As(err, &ge) || ge.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want field %q and %q", tc.graph, err, tc.field, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "model.") {
			t.Errorf("%s: %v names Go types", tc.graph, err)
		}
		if r == nil || r.ID != 7 {
			t.Errorf("%s: request %+v, want its ID kept", tc.graph, r)
		}
	}
}
