package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/bench"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

func testdata(name string) string { return filepath.Join("..", "..", "testdata", name) }

// sg2im runs the command in-process and returns its exit code and output.
func sg2im(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// buildCLI compiles the real binary once for tests that run it as a user would.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sg2im")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestGenerateMatchesAPI runs the binary with the fixture's noise and
// compares its dump with the Go API and with the release's tensors.
func TestGenerateMatchesAPI(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	exp, err := os.ReadFile(testdata("tiny_masks.expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ef, err := weights.ReadSafetensors(exp)
	if err != nil {
		t.Fatal(err)
	}
	noise := ef.Get("eval.noise")
	noiseFile := filepath.Join(dir, "noise.safetensors")
	if err := weights.WriteFileAtomic(noiseFile, func(w io.Writer) error {
		return weights.WriteSafetensors(w, nil, []weights.Tensor{{Name: "noise", DType: weights.F32, T: noise.T}})
	}); err != nil {
		t.Fatal(err)
	}
	var fixture struct {
		Graphs json.RawMessage `json:"scene_graphs"`
	}
	raw, _ := os.ReadFile(testdata("tiny_masks.json"))
	json.Unmarshal(raw, &fixture)
	graphsFile := filepath.Join(dir, "graphs.json")
	os.WriteFile(graphsFile, fixture.Graphs, 0o644)

	outDir := filepath.Join(dir, "out")
	dump := filepath.Join(dir, "dump.safetensors")
	cmd := exec.Command(bin, "generate", "--model", testdata("tiny_masks.zip.pt"), "--graphs", graphsFile,
		"--out", outDir, "--noise", noiseFile, "--dump", dump, "--layout")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sg2im generate: %v\n%s", err, out)
	}
	db, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	df, err := weights.ReadSafetensors(db)
	if err != nil {
		t.Fatal(err)
	}

	// The same through the API.
	ck, err := weights.Load(testdata("tiny_masks.zip.pt"))
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := model.FromCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	graphs, _ := model.ParseGraphs(fixture.Graphs)
	b, _ := model.Encode(graphs, g.Config.Vocab)
	api, err := g.Forward(b, model.Options{Noise: noise.T})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]float32{
		"img": api.Img.Data, "boxes_pred": api.BoxesPred.Data, "masks_pred": api.MasksPred.Data,
		"rel_scores": api.RelScores.Data, "layout": api.Layout.Data,
	} {
		got := df.Get(name)
		if got == nil {
			t.Errorf("dump has no %q", name)
			continue
		}
		if len(got.T.Data) != len(want) {
			t.Errorf("%s: %d values, API %d", name, len(got.T.Data), len(want))
			continue
		}
		for i := range want {
			if got.T.Data[i] != want[i] {
				t.Errorf("%s[%d] = %g from the CLI, %g from the API", name, i, got.T.Data[i], want[i])
				break
			}
		}
	}
	ref := ef.Get("eval.img").T.Data
	for i, v := range df.Get("img").T.Data {
		if math.Abs(float64(v-ref[i])) > 1e-4 {
			t.Fatalf("CLI img[%d] = %g, release %g", i, v, ref[i])
		}
	}
	for _, name := range []string{"img000000.png", "img000001.png", "layout000000.png", "layout000001.png"} {
		f, err := os.Open(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.HasPrefix(name, "img") && img.Bounds().Dx() != 32 {
			t.Errorf("%s is %v, want 32x32", name, img.Bounds())
		}
	}
}

func TestGenerateSeedAndSafetensorsModel(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "m.safetensors")
	if code, _, errs := sg2im("convert", testdata("tiny_oldformat.legacy.pt"), st); code != 0 {
		t.Fatalf("convert: %d %s", code, errs)
	}
	gen := func(model, out string, seed string) []byte {
		code, _, errs := sg2im("generate", "--model", model, "--graphs", testdata("graphs/sheep.json"), "--out", out, "--seed", seed)
		if code != 0 {
			t.Fatalf("generate: %d %s", code, errs)
		}
		b, err := os.ReadFile(filepath.Join(out, "img000000.png"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := gen(testdata("tiny_oldformat.legacy.pt"), filepath.Join(dir, "a"), "3")
	b := gen(st, filepath.Join(dir, "b"), "3")
	c := gen(st, filepath.Join(dir, "c"), "4")
	if !bytes.Equal(a, b) {
		t.Error("the .pt and its converted .safetensors drew different images")
	}
	if bytes.Equal(b, c) {
		t.Error("seeds 3 and 4 drew the same image")
	}
	code, out, errs := sg2im("inspect", st)
	if code != 0 || !strings.Contains(out, "format:     safetensors") || !strings.Contains(out, "sheep") {
		t.Errorf("inspect: %d\n%s\n%s", code, out, errs)
	}
}

// TestConvertNarrow checks convert --dtype f16|bf16 --generator_only: a
// file about a quarter the size of the full float32 one, without
// discriminators, whose weights are the original's rounded (within half a
// step of the type), and that generates.
func TestConvertNarrow(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full.safetensors")
	if code, _, errs := sg2im("convert", testdata("tiny_masks.legacy.pt"), full); code != exitOK {
		t.Fatalf("convert: %d %s", code, errs)
	}
	fullCk, err := weights.Load(full)
	if err != nil {
		t.Fatal(err)
	}
	fullInfo, _ := os.Stat(full)
	for _, dt := range []string{"f16", "bf16"} {
		narrow := filepath.Join(dir, dt+".safetensors")
		code, out, errs := sg2im("convert", "--dtype", dt, "--generator_only", full, narrow)
		if code != exitOK || strings.Contains(out, "discriminators kept") {
			t.Fatalf("convert --dtype %s: %d %s %s", dt, code, out, errs)
		}
		ck, err := weights.Load(narrow)
		if err != nil {
			t.Fatal(err)
		}
		if ck.DImg != nil || ck.DObj != nil {
			t.Errorf("%s: discriminators kept", dt)
		}
		info, _ := os.Stat(narrow)
		if genBytes := 4 * countValues(fullCk.Model); info.Size() > int64(genBytes)/2+64<<10 || info.Size() >= fullInfo.Size()/2 {
			t.Errorf("%s: %d bytes; the float32 file has %d, its generator %d", dt, info.Size(), fullInfo.Size(), genBytes)
		}
		for i, x := range ck.Model {
			for j, v := range x.T.Data {
				o := fullCk.Model[i].T.Data[j]
				// Half a step: 2^-11 relative for f16 (2^-25 absolute among
				// its subnormals), 2^-8 for bf16.
				if d := math.Abs(float64(v - o)); d > math.Abs(float64(o))/256+0x1p-25 {
					t.Fatalf("%s: %s[%d] = %g, original %g", dt, x.Name, j, v, o)
				}
			}
		}
		code, _, errs = sg2im("generate", "--model", narrow, "--graphs", testdata("graphs/sheep.json"), "--out", filepath.Join(dir, dt))
		if code != exitOK || errs != "" {
			t.Errorf("generate --model %s: %d %s", narrow, code, errs)
		}
	}
}

// TestRetiredKwargsQuiet checks the release's retired model_kwargs keys
// are named by inspect and convert only, not warned about on every
// command, and that convert's copy leaves them out.
func TestRetiredKwargsQuiet(t *testing.T) {
	old := testdata("tiny_oldformat.legacy.pt")
	st := filepath.Join(t.TempDir(), "old.safetensors")
	code, out, errs := sg2im("convert", old, st)
	if code != exitOK || errs != "" || !strings.Contains(out, "retired model_kwargs left out (box_anchor, decouple_obj_predictions, gconv_mode, vec_noise_dim)") {
		t.Fatalf("convert: exit %d\n%s\n%s", code, out, errs)
	}
	for _, model := range []string{old, st} {
		code, _, errs := sg2im("generate", "--model", model, "--graphs", testdata("graphs/sheep.json"), "--out", t.TempDir())
		if code != exitOK || errs != "" {
			t.Errorf("generate --model %s: exit %d, stderr %q; want no warnings", model, code, errs)
		}
	}
	code, out, _ = sg2im("inspect", old)
	if code != exitOK || !strings.Contains(out, "retired:    model_kwargs box_anchor") || strings.Contains(out, "null") {
		t.Errorf("inspect %s:\n%s", old, out)
	}
	code, out, _ = sg2im("inspect", st)
	if code != exitOK || strings.Contains(out, "retired") || strings.Contains(out, "null") {
		t.Errorf("inspect %s (converted):\n%s", st, out)
	}
}

// TestGenerateShippedByDefault checks generate needs no --model and no
// checkout: the shipped model is built in, and draws what the file does.
func TestGenerateShippedByDefault(t *testing.T) {
	graphs, err := filepath.Abs(testdata("graphs/sheep.json"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := filepath.Abs(filepath.Join("..", "..", "weights", "shipped", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errs := sg2im("generate", "--graphs", graphs, "--out", "builtin", "--seed", "2")
	if code != exitOK || !strings.Contains(out, "wrote 1 image") || errs != "" {
		t.Fatalf("generate without --model: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs := sg2im("generate", "--model", file, "--graphs", graphs, "--out", "file", "--seed", "2"); code != exitOK {
		t.Fatalf("generate --model: exit %d\n%s", code, errs)
	}
	a, errA := os.ReadFile(filepath.Join(dir, "builtin", "img000000.png"))
	b, errB := os.ReadFile(filepath.Join(dir, "file", "img000000.png"))
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("the built-in model drew another image than weights/shipped/model.safetensors (%v, %v)", errA, errB)
	}
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	pt := testdata("tiny_masks.zip.pt")
	truncated := filepath.Join(dir, "truncated.pt")
	full, _ := os.ReadFile(pt)
	os.WriteFile(truncated, full[:len(full)/2], 0o644)
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, []byte("this is not a model"), 0o644)
	noNoise := filepath.Join(dir, "nonoise.safetensors")
	weights.WriteFileAtomic(noNoise, func(w io.Writer) error {
		return weights.WriteSafetensors(w, nil, nil)
	})
	wrongNoise := filepath.Join(dir, "wrongnoise.safetensors")
	weights.WriteFileAtomic(wrongNoise, func(w io.Writer) error {
		return weights.WriteSafetensors(w, nil, []weights.Tensor{{Name: "noise", DType: weights.F32, T: nn.New(1, 4, 32, 32)}})
	})
	// tiny_masks weights under tiny_boxes' config: another architecture.
	other := filepath.Join(dir, "other.safetensors")
	masks, _ := weights.Load(pt)
	boxes, _ := weights.Load(testdata("tiny_boxes.zip.pt"))
	masks.ModelKwargs = boxes.ModelKwargs
	if err := masks.Save(other); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, exitUsage, "Usage"},
		{"unknown command", []string{"paint"}, exitUsage, `unknown command "paint"`},
		{"missing flag", []string{"generate", "--model", pt}, exitUsage, "--graphs is required"},
		{"bad flag", []string{"generate", "--modle", pt}, exitUsage, "modle"},
		{"malformed json", []string{"generate", "--model", pt, "--graphs", testdata("graphs/malformed.json"), "--out", out}, exitInput, "line 1, column"},
		{"unknown word", []string{"generate", "--model", pt, "--graphs", testdata("graphs/bad_word.json"), "--out", out}, exitInput, `unknown object "grss"; did you mean "grass"`},
		{"index out of range", []string{"generate", "--model", pt, "--graphs", testdata("graphs/bad_index.json"), "--out", out}, exitInput, "index 2 out of range"},
		{"empty objects", []string{"generate", "--model", pt, "--graphs", testdata("graphs/empty_objects.json"), "--out", out}, exitInput, "no objects"},
		{"missing graphs file", []string{"generate", "--model", pt, "--graphs", filepath.Join(dir, "nope.json"), "--out", out}, exitInput, "no such file"},
		{"truncated model", []string{"generate", "--model", truncated, "--graphs", testdata("graphs/sheep.json"), "--out", out}, exitModel, "truncated.pt"},
		{"garbage model", []string{"inspect", garbage}, exitModel, "garbage.safetensors"},
		{"another architecture", []string{"generate", "--model", other, "--graphs", testdata("graphs/sheep.json"), "--out", out}, exitModel, "weights do not match the model config"},
		{"noise missing", []string{"generate", "--model", pt, "--graphs", testdata("graphs/sheep.json"), "--out", out, "--noise", noNoise}, exitInput, `no tensor named "noise"`},
		{"noise wrong shape", []string{"generate", "--model", pt, "--graphs", testdata("graphs/two_scenes.json"), "--out", out, "--noise", wrongNoise}, exitInput, "noise has shape [1 4 32 32], want [2 4 32 32]"},
		{"convert arity", []string{"convert", pt}, exitUsage, "want two arguments"},
		{"convert output name", []string{"convert", pt, filepath.Join(dir, "x.pt")}, exitUsage, "*.safetensors"},
		{"convert dtype", []string{"convert", "--dtype", "f8", pt, filepath.Join(dir, "x.safetensors")}, exitUsage, "want f32, f16 or bf16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := sg2im(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q does not contain %q (stdout %q)", code, tc.code, stderr, tc.want, stdout)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(out, "img000000.png")); err == nil {
		t.Error("a failed run left images behind")
	}
	for _, cmd := range []string{"generate", "convert", "inspect"} {
		if code, _, stderr := sg2im(cmd, "--help"); code != 0 || !strings.Contains(stderr, "Usage: sg2im "+cmd) {
			t.Errorf("%s --help: exit %d, %q", cmd, code, stderr)
		}
	}
}

func TestChunkEndBoundsMemory(t *testing.T) {
	cfg := model.DefaultConfig(bench.Vocab())
	cfg.ImageSize = [2]int{256, 256}
	small := model.SceneGraph{Objects: []string{"sky"}}
	var full model.SceneGraph
	for range model.MaxObjectsPerGraph {
		full.Objects = append(full.Objects, "sky")
	}
	need := func(gs []model.SceneGraph) float64 { return activations(gs, &cfg) }
	for _, graphs := range [][]model.SceneGraph{
		slices.Repeat([]model.SceneGraph{small}, 20),
		{full, full, full, small, full, small, small},
	} {
		var ends []int
		for start, end := 0, 0; start < len(graphs); start = end {
			end = chunkEnd(graphs, start, &cfg)
			ends = append(ends, end)
			n := end - start
			if n < 1 || n > chunk || n > 1 && need(graphs[start:end]) > model.MaxActivationBytes {
				t.Fatalf("chunk [%d, %d) of %d graphs: %.0f MiB", start, end, n, need(graphs[start:end])/(1<<20))
			}
			if end < len(graphs) && n < chunk && need(graphs[start:end+1]) <= model.MaxActivationBytes {
				t.Errorf("chunk [%d, %d) could take the next graph", start, end)
			}
		}
		t.Logf("chunks end at %v", ends)
		if len(ends) < 2 {
			t.Errorf("one chunk of %d graphs at 256x256", len(graphs))
		}
	}
}

// TestConvertGeneratorOnly drops the shipped model's discriminators: the
// file shrinks, inspect lists none, and the images are the same.
func TestConvertGeneratorOnly(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join("..", "..", "weights", "shipped", "model.safetensors")
	gen := filepath.Join(dir, "g.safetensors")
	code, out, errs := sg2im("convert", "--generator_only", full, gen)
	if code != 0 || !strings.Contains(out, "discriminators left out") {
		t.Fatalf("convert: %d %s %s", code, out, errs)
	}
	a, b := fileSize(t, full), fileSize(t, gen)
	if b >= a {
		t.Errorf("generator-only file %d bytes, the full one %d", b, a)
	}
	if _, out, _ := sg2im("inspect", gen); strings.Contains(out, "d_img") || strings.Contains(out, "d_obj") {
		t.Errorf("inspect lists discriminators:\n%s", out)
	}
	draw := func(model, out string) []byte {
		if code, _, errs := sg2im("generate", "--model", model, "--graphs", testdata("graphs/sheep.json"), "--out", out, "--seed", "3"); code != 0 {
			t.Fatalf("generate: %d %s", code, errs)
		}
		img, err := os.ReadFile(filepath.Join(out, "img000000.png"))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	if !bytes.Equal(draw(full, filepath.Join(dir, "a")), draw(gen, filepath.Join(dir, "b"))) {
		t.Error("the generator-only file draws another image")
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestConvertAppearanceScale: recorded in a model with appearance vectors,
// refused for one without.
func TestConvertAppearanceScale(t *testing.T) {
	dir := t.TempDir()
	g, err := model.New(model.Config{
		ImageSize: [2]int{16, 16}, EmbeddingDim: 8, GconvDim: 8, GconvHiddenDim: 8, GconvNumLayers: 1,
		GconvPooling: "avg", RefinementDims: []int{4}, Normalization: "batch", Activation: "leakyrelu-0.2",
		MLPNormalization: "none", Vocab: model.NewVocab([]string{"sky"}, []string{"above"}), AppearanceDim: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	kw, _ := json.Marshal(g.Config)
	in, out := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	if err := (&weights.Checkpoint{ModelKwargs: kw, Model: g.State()}).Save(in); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := sg2im("convert", "--appearance_scale", "0.7", in, out); code != 0 {
		t.Fatalf("convert: %d %s", code, errs)
	}
	if _, info, _ := sg2im("inspect", out); !strings.Contains(info, `"appearance_scale": 0.7`) {
		t.Errorf("inspect does not show the scale:\n%s", info)
	}
	full := filepath.Join("..", "..", "weights", "shipped", "model.safetensors")
	if code, _, errs := sg2im("convert", "--appearance_scale", "0.7", full, out); code != exitUsage || !strings.Contains(errs, "no appearance vectors") {
		t.Errorf("scale for a model without appearance vectors: %d %s", code, errs)
	}
}
