package protocol

import (
	"strings"
	"testing"
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
