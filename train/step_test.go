package train

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/internal/fixture"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

func loadAll(t *testing.T, file string) (*model.Generator, *model.ImageDiscriminator, *model.ObjectDiscriminator) {
	t.Helper()
	ck, err := weights.Load(filepath.Join("..", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := model.FromCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	dImg, dObj, err := model.DiscriminatorsFromCheckpoint(ck, g.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	if dImg == nil || dObj == nil {
		t.Fatal("checkpoint without discriminators")
	}
	return g, dImg, dObj
}

// gradTol is the bound on a gradient: 1e-4 of the largest
// reference value, plus 1e-7 for gradients that are float noise.
func gradTol(ref *nn.Tensor) float64 { return 1e-4*maxAbs(ref) + 1e-7 }

// afterStepTol bounds parameters and running statistics after one Adam
// step. Conv biases followed by batch norm have float-noise gradients
// (~1e-9) whose first Adam step, ±lr, has a noise sign: they are compared
// against 2*lr instead and reported.
const afterStepTol = 3e-5

func TestTrainStepParity(t *testing.T) {
	c := fixture.Load(t, "tiny_masks")
	raw, _ := os.ReadFile(filepath.Join("..", "testdata", "tiny_masks.json"))
	var meta struct {
		Losses map[string]float64 `json:"train_losses"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	g, dImg, dObj := loadAll(t, "tiny_masks.legacy.pt")
	tr, err := NewTrainer(DefaultStepConfig(), g, dImg, dObj)
	if err != nil {
		t.Fatal(err)
	}
	graphs, _ := model.ParseGraphs(c.Graphs)
	b, _ := model.Encode(graphs, g.Config.Vocab)
	res, err := tr.Step(&StepInput{
		Batch: b, Images: c.Want(t, "train.imgs"), Boxes: c.Want(t, "input.boxes_gt"),
		Masks: c.Want(t, "input.masks_gt"), Noise: c.Want(t, "train.noise"),
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped {
		t.Fatal("step skipped")
	}
	fixture.AssertClose(t, "train.img_pred", res.Fake, c.Want(t, "train.img_pred"), fixture.ParityTol)

	for name, want := range meta.Losses {
		got, ok := res.Losses[name]
		if !ok {
			t.Errorf("loss %s not reported", name)
			continue
		}
		if rel := math.Abs(got-want) / math.Abs(want); rel > 1e-5 {
			t.Errorf("loss %s = %.8g, want %.8g (relative %.2g)", name, got, want, rel)
		}
	}

	checkGrads := func(prefix string, params []model.Named, vars []*nn.Var) {
		for i, p := range params {
			want := c.Expected.Get("train.grad." + prefix + p.Name)
			got := vars[i].Grad
			if want == nil {
				// PyTorch leaves it None: the parameter is not in the loss
				// (mask and relation nets without their losses, d_img's
				// unused classifier).
				if got != nil && maxAbs(got) != 0 {
					t.Errorf("%s%s has a gradient; PyTorch has none", prefix, p.Name)
				}
				continue
			}
			if got == nil {
				got = nn.New(p.T.Shape...)
			}
			fixture.AssertClose(t, "grad "+prefix+p.Name, got, want.T, gradTol(want.T))
		}
	}
	checkGrads("", g.Params(), g.ParamVars())
	checkGrads("d_obj.", dObj.Params(), dObj.ParamVars())
	checkGrads("d_img.", dImg.Params(), dImg.ParamVars())

	var noisy []string
	for _, group := range [][]model.Named{g.Params(), g.Buffers()} {
		for _, p := range group {
			want := c.Expected.Get("train.after_step." + p.Name)
			if want == nil {
				continue // num_batches_tracked
			}
			tol := afterStepTol
			if noiseBias(g, p.Name) {
				tol = 2 * DefaultStepConfig().LearningRate * 1.01
				noisy = append(noisy, p.Name)
			}
			fixture.AssertClose(t, "after_step "+p.Name, p.T, want.T, tol)
		}
	}
	sort.Strings(noisy)
	t.Logf("compared against 2*lr as noise-sign biases: %s", strings.Join(noisy, ", "))
}

// TestTrainStepWithOptions: the step adds the appearance KL and updates
// the encoder, whose gradient comes through the generated image.
func TestTrainStepWithOptions(t *testing.T) {
	cfg := model.Config{
		ImageSize: [2]int{16, 16}, EmbeddingDim: 8, GconvDim: 8, GconvHiddenDim: 12,
		GconvNumLayers: 2, GconvPooling: "avg", RefinementDims: []int{8, 4},
		Normalization: "batch", Activation: "leakyrelu-0.2", MaskSize: 4,
		MLPNormalization: "none", LayoutNoiseDim: 2,
		Vocab:         model.NewVocab([]string{"sky", "grass", "road", "car"}, []string{"left of", "above"}),
		AppearanceDim: 3, BoxSigmoid: true, InstanceEmbeddings: 2,
	}
	g, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(7)
	tc := DefaultStepConfig()
	tc.AppearanceKLWeight = 0.01
	tr, err := NewTrainer(tc, g, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	graphs, err := model.ParseGraphs([]byte(`[{"objects": ["sky", "grass"]}, {"objects": ["road", "car", "car"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Encode(graphs, g.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	O := len(b.Objs)
	boxes := nn.New(O, 4)
	for o := 0; o < O; o++ {
		copy(boxes.Data[4*o:], []float32{0.1 * float32(o%4), 0.2, 0.1*float32(o%4) + 0.5, 0.9})
	}
	images := nn.New(2, 3, 16, 16)
	for i := range images.Data {
		images.Data[i] = float32(math.Sin(float64(i)))
	}
	var enc *nn.Tensor
	for _, p := range g.Params() {
		if p.Name == "appearance_encoder.conv1.weight" {
			enc = p.T
		}
	}
	before := append([]float32(nil), enc.Data...)
	res, err := tr.Step(&StepInput{Batch: b, Images: images, Boxes: boxes, Seed: 3}, true)
	if err != nil || res.Skipped {
		t.Fatalf("step: %v, skipped %v", err, res != nil && res.Skipped)
	}
	if kl, ok := res.Losses["appearance_kl"]; !ok || !(kl > 0) {
		t.Errorf("appearance_kl %v (present %v), want a positive loss", kl, ok)
	}
	if slices.Equal(before, enc.Data) {
		t.Error("the appearance encoder did not learn")
	}
	// Draws given for the appearance sample must be one row per object.
	if _, err := tr.Step(&StepInput{Batch: b, Images: images, Boxes: boxes, AppearanceEps: nn.New(O+1, 3)}, true); err == nil || !strings.Contains(err.Error(), "appearance draws") {
		t.Errorf("appearance draws of the wrong shape: error %v, want one naming them", err)
	}
}

// noiseBias reports a conv bias directly followed by batch norm in train
// mode: batch norm removes it, so its gradient is float noise.
func noiseBias(g *model.Generator, name string) bool {
	module, ok := strings.CutSuffix(name, ".bias")
	if !ok {
		return false
	}
	i := strings.LastIndexByte(module, '.')
	prefix, last := module[:max(i, 0)], module[i+1:]
	idx, err := strconv.Atoi(last)
	if err != nil {
		return false
	}
	next := prefix + "." + strconv.Itoa(idx+1) + ".running_mean"
	for _, b := range g.Buffers() {
		if b.Name == next {
			return true
		}
	}
	return false
}

func maxAbs(t *nn.Tensor) float64 {
	m := 0.0
	for _, v := range t.Data {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}
