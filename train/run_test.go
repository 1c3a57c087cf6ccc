package train

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/train/traintest"
	"github.com/sg2im-go/sg2im/weights"
)

// tinyConfig is a model small enough for tests to train in seconds: 16x16
// images, 8x8 masks, narrow layers and two-layer discriminators.
func tinyConfig() Config {
	c := DefaultConfig()
	c.BatchSize = 4
	c.ImageSize = [2]int{16, 16}
	c.MaskSize = 8
	c.EmbeddingDim, c.GconvDim, c.GconvHiddenDim, c.GconvNumLayers = 16, 16, 32, 2
	c.RefinementDims = []int{16, 8, 4}
	c.LayoutNoiseDim = 4
	c.DObjArch, c.DImgArch = "C4-8-2,C4-16-2", "C4-8-2,C4-16-2"
	c.CropSize = 16
	c.PrintEvery = 1
	c.CheckpointEvery = 1000
	c.NumValSamples = 8
	c.Seed = 7
	return c
}

var (
	tinyOnce sync.Once
	tinyData *traintest.COCO
	tinyErr  error
)

// tinyCOCO is a synthetic data set of 12 images of 24x24 pixels, shared by
// the tests of this package.
func tinyCOCO(t testing.TB) *traintest.COCO {
	tinyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sg2im-train-test")
		if err != nil {
			tinyErr = err
			return
		}
		tinyData, tinyErr = traintest.WriteCOCO(dir, 12, 24, 1)
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyData
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyData != nil {
		os.RemoveAll(filepath.Dir(tinyData.ImageDir))
	}
	os.Exit(code)
}

func openTiny(c *traintest.COCO, withVal bool) func([2]int, int) (data.Dataset, data.Dataset, error) {
	return func(size [2]int, mask int) (data.Dataset, data.Dataset, error) {
		o := data.DefaultCOCOOptions(c.ImageDir, c.InstancesJSON, c.StuffJSON)
		o.ImageSize, o.MaskSize = size, mask
		tr, err := data.OpenCOCO(o)
		if err != nil || !withVal {
			return tr, nil, err
		}
		o.MaxSamples = 4
		val, err := data.OpenCOCO(o)
		return tr, val, err
	}
}

func tinyOptions(t *testing.T, dir string, iters int) Options {
	cfg := tinyConfig()
	cfg.NumIterations = iters
	return Options{Config: cfg, OpenData: openTiny(tinyCOCO(t), false), OutputDir: dir, Workers: 2}
}

// logged reads losses.jsonl.
func logged(t *testing.T, dir string) []Record {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "losses.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []Record
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var r Record
		if err := r.UnmarshalJSON([]byte(line)); err != nil {
			t.Fatalf("losses.jsonl line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// sameLosses compares logged losses exactly (the runs do the same float32
// arithmetic) and reports the largest difference.
func sameLosses(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].T != want[i].T || len(got[i].Losses) != len(want[i].Losses) {
			t.Fatalf("record %d: t %d with %d losses, want t %d with %d", i, got[i].T, len(got[i].Losses), want[i].T, len(want[i].Losses))
		}
		for name, w := range want[i].Losses {
			if g := got[i].Losses[name]; g != w {
				t.Errorf("t = %d: %s = %.9g, uninterrupted run %.9g", want[i].T, name, g, w)
			}
		}
	}
}

// TestResumeMatchesUninterrupted trains 14 iterations straight, and 7
// (mid-epoch: 3 batches an epoch) then 7 more resumed from the checkpoint,
// and compares every loss. The eval-mode switch falls in the second half,
// so the fresh generator optimiser and the eval-mode flag go through the
// checkpoint too.
func TestResumeMatchesUninterrupted(t *testing.T) { checkResume(t, func(*Config) {}) }

// TestResumeWithOptionsMatchesUninterrupted: the same with this program's
// model options on (the appearance encoder's weights and moments go
// through the checkpoint with the generator's).
func TestResumeWithOptionsMatchesUninterrupted(t *testing.T) {
	checkResume(t, func(c *Config) {
		c.AppearanceDim, c.AppearanceKLWeight, c.BoxSigmoid, c.InstanceEmbeddings = 4, 0.01, true, 3
	})
}

func checkResume(t *testing.T, set func(*Config)) {
	const n = 14
	straight := t.TempDir()
	o := tinyOptions(t, straight, n)
	o.Config.EvalModeAfter = 10
	set(&o.Config)
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}

	resumed := t.TempDir()
	o = tinyOptions(t, resumed, n/2)
	o.Config.EvalModeAfter = 10
	set(&o.Config)
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	o.Config.NumIterations = n
	o.Restore = true
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.State.T != n || !res.State.EvalMode {
		t.Errorf("resumed run ended at t = %d, eval mode %v; want %d, true", res.State.T, res.State.EvalMode, n)
	}
	want, got := logged(t, straight), logged(t, resumed)
	sameLosses(t, got, want)

	// The final weights agree too.
	a, err := weights.Load(WeightsPath(straight, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := weights.Load(WeightsPath(resumed, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2][]weights.Tensor{{a.Model, b.Model}, {a.DImg, b.DImg}, {a.DObj, b.DObj}} {
		bm := model.StateMap(pair[1])
		for _, ta := range pair[0] {
			tb := bm[ta.Name]
			for i := range ta.T.Data {
				if ta.T.Data[i] != tb.Data[i] {
					t.Fatalf("%s[%d]: straight %g, resumed %g", ta.Name, i, ta.T.Data[i], tb.Data[i])
				}
			}
		}
	}
}

// TestCancelWritesCheckpoint cancels the context as SIGINT does: the
// current iteration finishes, a checkpoint is written, and a restored run
// picks up from it.
func TestCancelWritesCheckpoint(t *testing.T) {
	dir := t.TempDir()
	// Cancelled before the first iteration: nothing to save.
	done, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	res, err := Run(done, tinyOptions(t, dir, 100))
	if err != nil || !res.Interrupted || res.State.T != 0 {
		t.Fatalf("cancelled at once: %+v, %v", res, err)
	}
	if _, err := os.Stat(res.StatePath); err == nil {
		t.Error("a checkpoint was written without any training")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := tinyOptions(t, dir, 100)
	o.AfterStep = func(step int) {
		if step == 3 {
			cancel()
		}
	}
	res, err = Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.State.T != 3 {
		t.Fatalf("interrupted %v at t = %d; want true at 3", res.Interrupted, res.State.T)
	}
	s, err := readState(res.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	if s.state.T != 3 || len(s.state.History) != 3 {
		t.Errorf("checkpoint at t = %d with %d records; want 3 and 3", s.state.T, len(s.state.History))
	}
	if _, _, err := model.FromCheckpoint(mustLoad(t, res.WeightsPath)); err != nil {
		t.Errorf("weights checkpoint does not load: %v", err)
	}
	o = tinyOptions(t, dir, 5)
	o.Restore = true
	res, err = Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Interrupted || res.State.T != 5 || len(logged(t, dir)) != 5 {
		t.Errorf("restored run: interrupted %v, t = %d, %d records; want false, 5, 5", res.Interrupted, res.State.T, len(logged(t, dir)))
	}
}

func mustLoad(t *testing.T, path string) *weights.Checkpoint {
	t.Helper()
	ck, err := weights.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

// TestCheckpointOutputs runs to a checkpoint with a validation set and
// checks the files it leaves.
func TestCheckpointOutputs(t *testing.T) {
	dir := t.TempDir()
	o := tinyOptions(t, dir, 4)
	o.Config.CheckpointEvery = 2
	o.OpenData = openTiny(tinyCOCO(t), true)
	var log strings.Builder
	o.Log = &log
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"checkpoint.safetensors", "checkpoint.state.safetensors", "losses.jsonl",
		"val.jsonl", "losses.png", "samples/00000002.png", "samples/00000004.png"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s missing or empty (%v)", name, err)
		}
	}
	if !strings.Contains(log.String(), "Validation at t = 4 on 4 images: box IoU") {
		t.Errorf("no validation message in the log:\n%s", log.String())
	}
}

// TestProgressLines checks the plain progress output.
func TestProgressLines(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b, false, 2, 4)
	for i := 1; i <= 4; i++ {
		p.step(i, map[string]float64{"total_loss": 1.5, "d_img_gan_loss": 0.5})
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "t = 4 / 4") || !strings.Contains(lines[1], "total 1.5") || !strings.Contains(lines[1], "d_img 0.5") {
		t.Errorf("progress lines:\n%s", b.String())
	}
}

// TestStaleTempsRemoved: the partial files a killed run left (full-size
// checkpoints half written) are removed when the next run starts; other
// files stay.
func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "samples"), 0o755)
	stale := []string{".checkpoint.safetensors.tmp123456", ".checkpoint.state.safetensors.tmp9", ".losses.png.tmp42", "samples/.00000002.png.tmp77"}
	kept := []string{"notes.txt", ".checkpoint.safetensors.tmpx", ".tmp12", "samples/keep.png"}
	for _, name := range append(stale, kept...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := tinyOptions(t, dir, 1)
	var log strings.Builder
	o.Log = &log
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: still there (%v)", name, err)
		}
		if !strings.Contains(log.String(), "Removed "+filepath.Join(dir, name)+", a partial file") {
			t.Errorf("%s: removal not logged:\n%s", name, log.String())
		}
	}
	for _, name := range kept {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
