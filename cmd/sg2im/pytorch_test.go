package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/data/world"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/train"
	"github.com/sg2im-go/sg2im/weights"
)

// torchPython is Debian's python3 with PyTorch; the test is skipped,
// saying why, without it.
func torchPython(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if p := os.Getenv("SG2IM_PYTHON"); p != "" {
		py = p
	}
	if out, err := exec.Command(py, "-c", "import torch, numpy").CombinedOutput(); err != nil {
		t.Skipf("PyTorch parity skipped: %s cannot import torch and numpy (install Debian's python3-torch and python3-numpy): %v %s",
			py, err, strings.TrimSpace(string(out)))
	}
	return py
}

func readST(t *testing.T, path string) map[string]*nn.Tensor {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := weights.ReadSafetensors(raw)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*nn.Tensor{}
	for _, ts := range f.Tensors {
		out[ts.Name] = ts.T
	}
	return out
}

func maxDiff(a, b *nn.Tensor) float64 {
	if len(a.Data) != len(b.Data) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a.Data {
		d = math.Max(d, math.Abs(float64(a.Data[i])-float64(b.Data[i])))
	}
	return d
}

func ints(t *nn.Tensor) []int {
	out := make([]int, len(t.Data))
	for i, v := range t.Data {
		out[i] = int(v)
	}
	return out
}

// TestPyTorchParity: sg2im shards writes world examples; the PyTorch
// trainer (pytorch/tests/go_parity.py) reads a batch of them, builds a
// tiny model, steps it once and generates with it, in two cases: the
// release's architecture, and the same with this program's generator
// options (appearance vectors and their KL term, sigmoid boxes with their
// bias init, instance embeddings; mask loss on). Here, for each:
//   - the batch PyTorch read equals the Go dataset's examples collated
//     (the shards carry them exactly; in the options case go_parity.py
//     then gives the objects of two images one category each, so that
//     instance indices follow the boxes, and model.InstanceIndex must give
//     the indices PyTorch's trainer derived);
//   - one step of train.Trainer (what sg2im train runs) from PyTorch's
//     initial checkpoint, on that batch with the same layout noise (and
//     appearance draws), gives PyTorch's losses (relative 1e-5: float32
//     sums in another order) and updated weights (3e-5 absolute as against
//     the release's fixtures: Adam divides gradients by their own size, so
//     a gradient's float noise moves a weight by a fraction of lr = 1e-4;
//     biases feeding a train-mode batch norm have pure-noise gradients
//     whose sign Adam turns into +-lr, so 2*lr there);
//   - the stepped PyTorch checkpoint, loaded by the Go generator, draws the
//     image PyTorch's eval forward draws for the same noise (1e-4), and in
//     the options case the same boxes, masks and relation scores for the
//     same appearance vectors.
func TestPyTorchParity(t *testing.T) {
	py := torchPython(t)
	dir := t.TempDir()
	shards, work := filepath.Join(dir, "shards"), filepath.Join(dir, "work")
	os.MkdirAll(work, 0o755)
	args := []string{"--dataset", "world", "--image_size", "32", "--mask_size", "8", "--num_examples", "8",
		"--shard_size", "4", "--draws", "2", "--seed", "3", "--out", shards}
	if code := run(append([]string{"shards"}, args...), io.Discard, io.Discard); code != 0 {
		t.Fatalf("sg2im shards exited %d", code)
	}
	cmd := exec.Command(py, filepath.Join("..", "..", "pytorch", "tests", "go_parity.py"), shards, work)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go_parity.py: %v\n%s", err, out)
	}
	t.Run("release", func(t *testing.T) { checkParityCase(t, filepath.Join(work, "release"), train.DefaultStepConfig()) })
	t.Run("options", func(t *testing.T) {
		c := train.DefaultStepConfig()
		c.AppearanceKLWeight, c.MaskLossWeight = 0.01, 1 // go_parity.py's OPTIONS
		checkParityCase(t, filepath.Join(work, "options"), c)
	})
}

// checkParityCase runs the Go side of one go_parity.py case in dir.
func checkParityCase(t *testing.T, dir string, sc train.StepConfig) {
	batch := readST(t, filepath.Join(dir, "batch.safetensors"))
	options := batch["eps"] != nil
	checkShardBatch(t, batch, options)

	b := &model.Batch{Objs: ints(batch["objs"]), ObjToImg: ints(batch["obj_to_img"]), NumImages: 4}
	tr := ints(batch["triples"])
	for i := 0; i+2 < len(tr); i += 3 {
		b.Triples = append(b.Triples, [3]int{tr[i], tr[i+1], tr[i+2]})
	}
	ck, err := weights.Load(filepath.Join(dir, "init.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := model.FromCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	if options {
		checkOptionsConfig(t, g.Config, batch, b)
		checkBoxBias(t, g)
	}
	dImg, dObj, err := model.DiscriminatorsFromCheckpoint(ck, g.Config.Vocab)
	if err != nil || dImg == nil || dObj == nil {
		t.Fatalf("discriminators: %v", err)
	}
	trainer, err := train.NewTrainer(sc, g, dImg, dObj)
	if err != nil {
		t.Fatal(err)
	}
	res, err := trainer.Step(&train.StepInput{Batch: b, Images: batch["imgs"], Boxes: batch["boxes"],
		Masks: batch["masks"], Noise: batch["noise"], AppearanceEps: batch["eps"]}, true)
	if err != nil || res.Skipped {
		t.Fatalf("step: %v (skipped %v)", err, res != nil && res.Skipped)
	}
	checkLosses(t, filepath.Join(dir, "losses.json"), res.Losses)
	after := readST(t, filepath.Join(dir, "after.safetensors"))
	compareState(t, "", g.State(), after)
	compareState(t, "d_img.", discTensors(dImg.Params(), dImg.Buffers()), after)
	compareState(t, "d_obj.", discTensors(dObj.Params(), dObj.Buffers()), after)

	ck2, err := weights.Load(filepath.Join(dir, "after.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	g2, _, err := model.FromCheckpoint(ck2)
	if err != nil {
		t.Fatal(err)
	}
	out, err := g2.Forward(b, model.Options{Noise: batch["noise"], Appearance: batch["appearance"]})
	if err != nil {
		t.Fatal(err)
	}
	want := readST(t, filepath.Join(dir, "generated.safetensors"))
	got := map[string]*nn.Tensor{"img": out.Img, "boxes_pred": out.BoxesPred, "masks_pred": out.MasksPred, "rel_scores": out.RelScores}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if d := maxDiff(got[name], want[name]); !(d <= 1e-4) {
			t.Errorf("Go's %s from the PyTorch checkpoint: max |diff| %.3g > 1e-4", name, d)
		} else {
			t.Logf("Go's %s from the PyTorch checkpoint: max |diff| %.3g", name, d)
		}
	}
}

// checkBoxBias: go_parity.py's --box_bias_init 0.25,0.25,0.75,0.75 with
// box_sigmoid gave the box net's last bias Go's SetBoxBias values (logits)
// exactly.
func checkBoxBias(t *testing.T, g *model.Generator) {
	t.Helper()
	fresh, err := model.New(g.Config)
	if err != nil {
		t.Fatal(err)
	}
	fresh.SetBoxBias([4]float32{0.25, 0.25, 0.75, 0.75})
	var want, got *nn.Tensor
	for _, pair := range []struct {
		g   *model.Generator
		out **nn.Tensor
	}{{fresh, &want}, {g, &got}} {
		for _, p := range pair.g.Params() {
			if p.Name == "box_net.2.bias" {
				*pair.out = p.T
			}
		}
	}
	if want == nil || got == nil || maxDiff(got, want) != 0 || want.Data[0] >= 0 {
		t.Errorf("box_net.2.bias from --box_bias_init with box_sigmoid: PyTorch %v, Go's SetBoxBias %v", got, want)
	}
}

// checkOptionsConfig checks that Go reads the options case's kwargs as
// go_parity.py wrote them, and that its instance indices from the true
// boxes are those PyTorch's trainer used, with repeated categories among
// them (else the case would not test the rule).
func checkOptionsConfig(t *testing.T, c model.Config, batch map[string]*nn.Tensor, b *model.Batch) {
	t.Helper()
	if c.AppearanceDim != 4 || c.AppearanceScale != 0.5 || !c.BoxSigmoid || c.InstanceEmbeddings != 3 {
		t.Fatalf("options read from PyTorch's kwargs: appearance_dim %d, appearance_scale %g, box_sigmoid %v, instance_embeddings %d; want 4, 0.5, true, 3",
			c.AppearanceDim, c.AppearanceScale, c.BoxSigmoid, c.InstanceEmbeddings)
	}
	got, want := model.InstanceIndex(b, batch["boxes"], c.InstanceEmbeddings), ints(batch["instances"])
	if !slices.Equal(got, want) {
		t.Errorf("instance indices from the true boxes: Go %v, PyTorch %v", got, want)
	}
	if graph := model.InstanceIndex(b, nil, c.InstanceEmbeddings); slices.Equal(graph, got) || slices.Max(got) < 2 {
		t.Errorf("the batch does not tell box order (%v) from graph order (%v) up to the cap: go_parity.py's batch changed", got, graph)
	}
}

// checkShardBatch compares the batch PyTorch read from the shards with
// the world dataset's first four examples (draw 0), collated in Go; the
// objects only when go_parity.py left them as read (recategorised false).
func checkShardBatch(t *testing.T, batch map[string]*nn.Tensor, recategorised bool) {
	t.Helper()
	opts := world.DefaultOptions()
	opts.ImageSize, opts.MaskSize = 32, 8
	w, err := world.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var exs []*data.Example
	for i := range 4 {
		ex, err := w.Example(i, rand.New(rand.NewPCG(3, uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		exs = append(exs, ex)
	}
	want := data.Collate(exs, 8)
	var tr []float32
	for _, x := range want.Triples {
		tr = append(tr, float32(x[0]), float32(x[1]), float32(x[2]))
	}
	for _, c := range []struct {
		name string
		want *nn.Tensor
	}{{"imgs", want.Images}, {"boxes", want.Boxes}, {"masks", want.Masks},
		{"objs", intsTensor(want.Objs)}, {"obj_to_img", intsTensor(want.ObjToImg)}, {"triples", nn.FromData(tr, len(tr))}} {
		if c.name == "objs" && recategorised {
			continue
		}
		if d := maxDiff(batch[c.name], c.want); d != 0 {
			t.Errorf("shard batch %s differs from the dataset's (max |diff| %g)", c.name, d)
		}
	}
}

func intsTensor(xs []int) *nn.Tensor {
	t := nn.New(len(xs))
	for i, x := range xs {
		t.Data[i] = float32(x)
	}
	return t
}

func checkLosses(t *testing.T, path string, got train.Losses) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]float64
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Errorf("losses: PyTorch reports %d, Go %d", len(want), len(got))
	}
	for k, w := range want {
		g, ok := got[k]
		if rel := math.Abs(g-w) / math.Max(math.Abs(w), 1e-6); !ok || rel > 1e-5 {
			t.Errorf("loss %s: Go %.8g, PyTorch %.8g (relative %.2g)", k, g, w, rel)
		}
	}
}

func discTensors(params, buffers []model.Named) []weights.Tensor {
	var out []weights.Tensor
	for _, group := range [][]model.Named{params, buffers} {
		for _, p := range group {
			out = append(out, weights.Tensor{Name: p.Name, T: p.T})
		}
	}
	return out
}

// compareState compares Go's tensors after the step with PyTorch's.
func compareState(t *testing.T, prefix string, got []weights.Tensor, want map[string]*nn.Tensor) {
	t.Helper()
	names := map[string]bool{}
	for _, x := range got {
		names[x.Name] = true
	}
	var noisy []string
	for _, x := range got {
		w := want[prefix+x.Name]
		if w == nil {
			t.Errorf("%s%s: not in PyTorch's checkpoint", prefix, x.Name)
			continue
		}
		tol := 3e-5
		if feedsBatchNorm(x.Name, names) {
			tol = 2 * 1e-4 * 1.01
			noisy = append(noisy, x.Name)
		}
		if d := maxDiff(x.T, w); !(d <= tol) {
			t.Errorf("%s%s after one step: max |diff| %.3g > %.3g", prefix, x.Name, d, tol)
		}
	}
	t.Logf("%scompared against 2*lr as noise-gradient biases: %s", prefix, strings.Join(noisy, ", "))
}

// feedsBatchNorm reports a bias whose next module is a batch norm.
func feedsBatchNorm(name string, names map[string]bool) bool {
	module, ok := strings.CutSuffix(name, ".bias")
	if !ok {
		return false
	}
	i := strings.LastIndexByte(module, '.')
	idx, err := strconv.Atoi(module[i+1:])
	return err == nil && names[fmt.Sprintf("%s.%d.running_mean", module[:i], idx+1)]
}

// TestPyTorchStartsFromGo: pytorch/train.py --checkpoint_start_from an
// sg2im train checkpoint takes its generator and both discriminators (one
// step at a learning rate of 1e-12 leaves the parameters where Go left
// them) and its model kwargs over the flags' defaults: for the release's
// architecture, and for one with this program's generator options, which
// PyTorch then trains (its appearance draws, KL term and instance indices)
// and writes back with the same kwargs.
func TestPyTorchStartsFromGo(t *testing.T) {
	py := torchPython(t)
	dir := t.TempDir()
	shards := filepath.Join(dir, "shards")
	if code := run([]string{"shards", "--dataset", "world", "--image_size", "32", "--mask_size", "8",
		"--num_examples", "8", "--draws", "1", "--out", shards}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("sg2im shards exited %d", code)
	}
	t.Run("release", func(t *testing.T) { checkStartsFromGo(t, py, shards, filepath.Join(dir, "release"), nil) })
	t.Run("options", func(t *testing.T) {
		checkStartsFromGo(t, py, shards, filepath.Join(dir, "options"), []string{"--appearance_dim", "4",
			"--appearance_kl_weight", "0.01", "--box_sigmoid", "--instance_embeddings", "3"})
	})
}

func checkStartsFromGo(t *testing.T, py, shards, dir string, options []string) {
	goOut, ptOut := filepath.Join(dir, "go"), filepath.Join(dir, "pt")
	tiny := []string{"--image_size", "32", "--mask_size", "8", "--embedding_dim", "16", "--gconv_dim", "16",
		"--gconv_hidden_dim", "32", "--gconv_num_layers", "2", "--refinement_network_dims", "32,16,8",
		"--layout_noise_dim", "4", "--d_obj_arch", "C4-8-2,C4-16-2", "--d_img_arch", "C4-8-2,C4-16-2",
		"--crop_size", "16", "--batch_size", "4", "--num_iterations", "1"}
	var errb strings.Builder
	if code := run(append(append([]string{"train", "--dataset", "world", "--num_val_samples", "0", "--output_dir", goOut,
		"--threads", "1"}, tiny...), options...), io.Discard, &errb); code != 0 {
		t.Fatalf("sg2im train exited %d: %s", code, errb.String())
	}
	ck := filepath.Join(goOut, "checkpoint.safetensors")
	// Only the discriminator flags (and the KL weight, a loss flag): the
	// generator's come from the checkpoint.
	args := []string{filepath.Join("..", "..", "pytorch", "train.py"), "--shards", shards,
		"--output_dir", ptOut, "--checkpoint_start_from", ck, "--learning_rate", "1e-12", "--batch_size", "4",
		"--num_iterations", "1", "--d_obj_arch", "C4-8-2,C4-16-2", "--d_img_arch", "C4-8-2,C4-16-2",
		"--crop_size", "16", "--loader_num_workers", "0", "--threads", "1", "--print_every", "1"}
	if options != nil {
		args = append(args, "--appearance_kl_weight", "0.01")
	}
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("pytorch/train.py: %v\n%s", err, out)
	}
	for _, want := range []string{"d_img initialised from", "d_obj initialised from"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("pytorch/train.py did not say %q:\n%s", want, out)
		}
	}
	if options != nil && !strings.Contains(string(out), "appearance_kl") {
		t.Errorf("pytorch/train.py reported no appearance_kl loss:\n%s", out)
	}
	ptCk := filepath.Join(ptOut, "checkpoint.safetensors")
	before, after := readST(t, ck), readST(t, ptCk)
	if len(before) != len(after) {
		t.Errorf("%d tensors in Go's checkpoint, %d in PyTorch's", len(before), len(after))
	}
	for name, b := range before {
		if strings.Contains(name, "running_") || strings.HasSuffix(name, "num_batches_tracked") {
			continue // one training step moves them
		}
		if a := after[name]; a == nil || maxDiff(a, b) > 1e-9 {
			t.Errorf("%s: not carried over from Go's checkpoint", name)
		}
	}
	goCk, err1 := weights.Load(ck)
	back, err2 := weights.Load(ptCk)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	gGo, _, err1 := model.FromCheckpoint(goCk)
	gPt, _, err2 := model.FromCheckpoint(back)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a, b := mustJSONString(t, gGo.Config), mustJSONString(t, gPt.Config); a != b {
		t.Errorf("model kwargs changed on the way through PyTorch:\nGo      %s\nPyTorch %s", a, b)
	}
}

func mustJSONString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
