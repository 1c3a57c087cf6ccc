package eval

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/data/world"
	"github.com/sg2im-go/sg2im/model"
)

// worldModel is a generator with random weights over the world's
// vocabulary: 32x32 images, 8x8 masks, noise.
func worldModel(t testing.TB, maskSize int) *model.Generator {
	t.Helper()
	g, err := model.New(model.Config{
		ImageSize: [2]int{32, 32}, EmbeddingDim: 8, GconvDim: 8, GconvHiddenDim: 16,
		GconvNumLayers: 1, GconvPooling: "avg", RefinementDims: []int{8, 4},
		Normalization: "batch", Activation: "leakyrelu-0.2", MaskSize: maskSize,
		MLPNormalization: "none", LayoutNoiseDim: 2, Vocab: world.NewVocab(),
	})
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(5)
	return g
}

// shippedClassifier loads weights/shipped/classifier.safetensors.
func shippedClassifier(t testing.TB) (*Classifier, *TrainInfo) {
	t.Helper()
	c, info, err := LoadClassifier(filepath.Join("..", "weights", "shipped", "classifier.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return c, info
}

func inUnit(v float64) bool { return v >= 0 && v <= 1 }

func TestRunRandomModel(t *testing.T) {
	g := worldModel(t, 8)
	c, _ := shippedClassifier(t)
	opt := DefaultOptions()
	opt.N, opt.Seed, opt.Classifier = 8, 3, c
	r, err := Run(g, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r.Scenes != 8 || r.ImageSize != 32 || r.Objects < 8*3 {
		t.Errorf("scenes %d, size %d, objects %d; want 8, 32, at least 24", r.Scenes, r.ImageSize, r.Objects)
	}
	rel := r.Relationships
	if rel.Triples < 8 || !inUnit(rel.Satisfaction) || len(rel.PerPredicate) != 6 || rel.Centres != "predicted mask centroids" {
		t.Errorf("relationships %+v", rel)
	}
	sum := 0
	for name, q := range rel.PerPredicate {
		sum += q.Count
		if !inUnit(q.Share) || q.Right > q.Count {
			t.Errorf("%s: %+v", name, q)
		}
	}
	if sum != rel.Triples {
		t.Errorf("per-predicate counts add up to %d, want %d", sum, rel.Triples)
	}
	rc := r.Recognisability
	if rc == nil || !inUnit(rc.Real) || !inUnit(rc.TrueLayout) || !inUnit(rc.PredLayout) || len(rc.PerCategory) == 0 {
		t.Fatalf("recognisability %+v", rc)
	}
	// Real crops are recognised; random weights draw nothing recognisable.
	if rc.Real < 0.8 || rc.TrueLayout > 0.5 {
		t.Errorf("recognisability real %.3f (want >= 0.8), true layout %.3f (want <= 0.5 from random weights)", rc.Real, rc.TrueLayout)
	}
	im := r.Image
	if !(im.L1Normalized > 0) || !(im.L1Pixels > 0 && im.L1Pixels <= 1) || !(im.Diversity > 0 && im.Diversity <= 1) {
		t.Errorf("image stats %+v", im)
	}
	if !inUnit(r.BoxIoU) || math.IsNaN(r.BoxIoU) {
		t.Errorf("box IoU %v", r.BoxIoU)
	}
	// Random weights draw crops far from the real ones; the real crops of
	// other scenes are close.
	f := r.ObjectFID
	if f == nil || f.Crops != r.Objects || f.ReferenceCrops < 8*3 || f.Features != 256 ||
		!(f.RealFloor >= 0) || !(f.PredLayout > 2*f.RealFloor) || !(f.TrueLayout > 2*f.RealFloor) {
		t.Errorf("object FID %+v", f)
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "relationship satisfaction") ||
		!strings.Contains(text.String(), "object FID") || !strings.Contains(text.String(), "noisy estimate") {
		t.Errorf("text report (%v):\n%s", err, text.String())
	}

	// Scene i's graph and noise depend on the seed and i alone: another
	// batch size gives the same report.
	opt.BatchSize = 3
	r3, err := Run(g, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Relationships, r3.Relationships) || !reflect.DeepEqual(r.Recognisability, r3.Recognisability) ||
		math.Abs(r.ObjectFID.PredLayout-r3.ObjectFID.PredLayout) > 1e-6*max(1, r.ObjectFID.PredLayout) ||
		math.Abs(r.Image.L1Normalized-r3.Image.L1Normalized) > 1e-6 || math.Abs(r.BoxIoU-r3.BoxIoU) > 1e-6 {
		t.Errorf("batch size 16 and 3 differ:\n%+v\n%+v", r, r3)
	}
}

// TestRunWithoutMasksOrClassifier: box centres for the rule, no
// recognisability.
func TestRunWithoutMasksOrClassifier(t *testing.T) {
	opt := DefaultOptions()
	opt.N = 4
	r, err := Run(worldModel(t, 0), opt)
	if err != nil {
		t.Fatal(err)
	}
	if r.Relationships.Centres != "box centres" || r.Recognisability != nil || r.Relationships.Triples == 0 {
		t.Errorf("report %+v", r)
	}
}

func TestRunRejectsOtherVocab(t *testing.T) {
	g := worldModel(t, 8)
	cfg := g.Config
	cfg.Vocab = model.NewVocab([]string{"sky", "grass", "ocean"}, []string{"left of", "above"})
	other, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(other, DefaultOptions())
	var ve *VocabError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v, want a *VocabError", err)
	}
	for _, word := range []string{`"sea"`, `"boat"`, `"behind"`, `"right of"`} {
		if !strings.Contains(err.Error(), word) {
			t.Errorf("error does not name %s: %v", word, err)
		}
	}
	if strings.Contains(err.Error(), `"sky"`) {
		t.Errorf("error names a word the model has: %v", err)
	}
}
