package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/data/world"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/weights"
)

// worldModelFile writes a generator with random weights over the world's
// vocabulary (32x32, 8x8 masks) and returns its path.
func worldModelFile(t *testing.T) string {
	t.Helper()
	cfg := model.Config{
		ImageSize: [2]int{32, 32}, EmbeddingDim: 8, GconvDim: 8, GconvHiddenDim: 16,
		GconvNumLayers: 1, GconvPooling: "avg", RefinementDims: []int{8, 4},
		Normalization: "batch", Activation: "leakyrelu-0.2", MaskSize: 8,
		MLPNormalization: "none", LayoutNoiseDim: 2, Vocab: world.NewVocab(),
	}
	g, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(1)
	kwargs, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "world.safetensors")
	ck := &weights.Checkpoint{Format: "safetensors", ModelKwargs: kwargs, Model: g.State()}
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

var shippedClassifier = filepath.Join("..", "..", "weights", "shipped", "classifier.safetensors")

func TestEvalJSON(t *testing.T) {
	m := worldModelFile(t)
	code, stdout, stderr := sg2im("eval", "--model", m, "--n", "8", "--seed", "2", "--json", "--classifier", shippedClassifier)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	get := func(path ...string) any {
		var v any = r
		for _, k := range path {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = obj[k]
		}
		return v
	}
	for _, path := range [][]string{
		{"relationships", "satisfaction"}, {"relationships", "per_predicate", "left of", "share"},
		{"relationships", "per_predicate", "surrounding", "share"},
		{"recognisability", "real"}, {"recognisability", "true_layout"}, {"recognisability", "pred_layout"},
		{"recognisability", "classifier_heldout_accuracy"},
		{"image", "l1_true_layout_pixels"}, {"image", "diversity_pixels"}, {"box_iou"},
	} {
		v, ok := get(path...).(float64)
		if !ok || v < 0 || v > 1 {
			t.Errorf("%s = %v, want a number in [0, 1]", strings.Join(path, "."), get(path...))
		}
	}
	if v, ok := get("image", "l1_true_layout_normalized").(float64); !ok || !(v > 0) {
		t.Errorf("image.l1_true_layout_normalized = %v, want a positive number", v)
	}
	if v, _ := get("scenes").(float64); v != 8 {
		t.Errorf("scenes = %v, want 8", get("scenes"))
	}
	// The same seed gives the same report.
	if _, again, _ := sg2im("eval", "--model", m, "--n", "8", "--seed", "2", "--json", "--classifier", shippedClassifier); again != stdout {
		t.Error("two runs with one seed differ")
	}
}

func TestEvalTable(t *testing.T) {
	m := worldModelFile(t)
	code, stdout, stderr := sg2im("eval", "--model", m, "--n", "4", "--classifier", "none")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"relationship satisfaction", "left of", "(no classifier)", "mean box IoU"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	// The reference fixture's vocabulary is not the world's.
	code, _, stderr := sg2im("eval", "--model", testdata("tiny_masks.zip.pt"), "--n", "2", "--classifier", "none")
	if code != exitModel || !strings.Contains(stderr, "lacks the world's") || !strings.Contains(stderr, `"sea"`) {
		t.Errorf("model of another vocabulary: exit %d, %s", code, stderr)
	}
	if code, _, _ := sg2im("eval", "--train_classifier"); code != exitUsage {
		t.Errorf("--train_classifier without --out: exit %d, want %d", code, exitUsage)
	}
	m := worldModelFile(t)
	code, _, stderr = sg2im("eval", "--model", m, "--n", "2", "--classifier", filepath.Join(t.TempDir(), "none.safetensors"))
	if code != exitModel || !strings.Contains(stderr, "--train_classifier") {
		t.Errorf("missing classifier: exit %d, %s", code, stderr)
	}
}

// TestEvalShippedModel checks the shipped model speaks the world's words,
// and that eval needs no file by default: the shipped model and classifier
// are built in.
func TestEvalShippedModel(t *testing.T) {
	t.Chdir(t.TempDir()) // no checkout around
	code, stdout, stderr := sg2im("eval", "--n", "4", "--threads", "1")
	if code != exitOK || !strings.Contains(stdout, "sg2im eval the shipped model") ||
		!strings.Contains(stdout, "relationship satisfaction") || !strings.Contains(stdout, "recognisability") {
		t.Errorf("eval on the shipped model: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
