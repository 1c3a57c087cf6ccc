package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sg2im-go/sg2im/train/traintest"
	"github.com/sg2im-go/sg2im/weights"
)

// tinyTrainData writes a synthetic COCO data set of 16 images of 24x24
// pixels (train/traintest).
func tinyTrainData(t *testing.T) *traintest.COCO {
	t.Helper()
	c, err := traintest.WriteCOCO(t.TempDir(), 16, 24, 3)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tinyTrainArgs train a model small enough for tests (16x16 images, 8x8
// masks, narrow layers, two-layer discriminators) on c without
// validation, logging every iteration.
func tinyTrainArgs(c *traintest.COCO, out string, iters int, extra ...string) []string {
	args := []string{"train",
		"--coco_train_image_dir", c.ImageDir, "--coco_train_instances_json", c.InstancesJSON,
		"--coco_train_stuff_json", c.StuffJSON, "--coco_val_instances_json", "",
		"--image_size", "16,16", "--mask_size", "8", "--embedding_dim", "16", "--gconv_dim", "16",
		"--gconv_hidden_dim", "32", "--gconv_num_layers", "2", "--refinement_network_dims", "16,8,4",
		"--layout_noise_dim", "4", "--d_obj_arch", "C4-8-2,C4-16-2", "--d_img_arch", "C4-8-2,C4-16-2",
		"--crop_size", "16", "--batch_size", "4", "--print_every", "1", "--checkpoint_every", "1000",
		"--seed", "11", "--loader_num_workers", "2", "--output_dir", out,
		"--num_iterations", strconv.Itoa(iters)}
	return append(args, extra...)
}

// lossLog reads losses.jsonl as t -> losses.
func lossLog(t *testing.T, dir string) []map[string]float64 {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "losses.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("losses.jsonl: %v: %s", err, sc.Text())
		}
		rec := map[string]float64{}
		for k, v := range m {
			if f, ok := v.(float64); ok && k != "elapsed_s" {
				rec[k] = f
			}
		}
		out = append(out, rec)
	}
	return out
}

func meanOf(recs []map[string]float64, key string) float64 {
	var s float64
	for _, r := range recs {
		s += r[key]
	}
	return s / float64(len(recs))
}

// TestTrainLossGoesDown trains 50 iterations from the command line, with
// a fixed seed, and checks that the generator's total loss falls: the mean
// of the last 10 iterations against that of the first 10.
func TestTrainLossGoesDown(t *testing.T) {
	c := tinyTrainData(t)
	out := t.TempDir()
	code, stdout, stderr := sg2im(tinyTrainArgs(c, out, 50)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	recs := lossLog(t, out)
	if len(recs) != 50 {
		t.Fatalf("%d logged iterations, want 50", len(recs))
	}
	first, last := meanOf(recs[:10], "total_loss"), meanOf(recs[40:], "total_loss")
	t.Logf("mean total_loss: first 10 iterations %.4f, last 10 %.4f", first, last)
	if !(last < 0.9*first) {
		t.Errorf("total loss did not go down: first 10 %.4f, last 10 %.4f", first, last)
	}
	for _, name := range []string{"checkpoint.safetensors", "checkpoint.state.safetensors", "losses.png", "samples/00000050.png"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	// The checkpoint generates images.
	graphs := filepath.Join(t.TempDir(), "g.json")
	os.WriteFile(graphs, []byte(`{"objects": ["square", "disc", "sky", "grass"], "relationships": [[0, "left of", 1], [2, "above", 3]]}`), 0o644)
	gen := t.TempDir()
	code, stdout, stderr = sg2im("generate", "--model", filepath.Join(out, "checkpoint.safetensors"), "--graphs", graphs, "--out", gen)
	if code != exitOK {
		t.Fatalf("generate from the trained checkpoint: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(gen, "img000000.png")); err != nil {
		t.Error(err)
	}
}

// TestTrainResumeFromCLI trains 10 iterations straight and 5 + 5 with
// --restore_from_checkpoint, and compares every logged loss.
func TestTrainResumeFromCLI(t *testing.T) {
	c := tinyTrainData(t)
	straight, resumed := t.TempDir(), t.TempDir()
	for _, args := range [][]string{
		tinyTrainArgs(c, straight, 10),
		tinyTrainArgs(c, resumed, 5),
		tinyTrainArgs(c, resumed, 10, "--restore_from_checkpoint", "1"),
	} {
		if code, stdout, stderr := sg2im(args...); code != exitOK {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
	}
	a, b := lossLog(t, straight), lossLog(t, resumed)
	if len(a) != 10 || len(b) != 10 {
		t.Fatalf("%d and %d records, want 10 and 10", len(a), len(b))
	}
	worst := 0.0
	for i := range a {
		for k, v := range a[i] {
			worst = max(worst, abs(b[i][k]-v))
		}
	}
	if worst > 1e-6 {
		t.Errorf("resumed losses differ from the uninterrupted run's by up to %g", worst)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestTrainSIGINT interrupts the real binary: it finishes the iteration,
// writes a checkpoint and exits 0.
func TestTrainSIGINT(t *testing.T) {
	bin := buildCLI(t)
	c := tinyTrainData(t)
	out := t.TempDir()
	cmd := exec.Command(bin, tinyTrainArgs(c, out, 1000000)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(out, "losses.jsonl"))
		if bytes.Count(b, []byte("\n")) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no progress after 60 s\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "Interrupted at t = ") {
		t.Errorf("no interruption message:\n%s", stdout.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, "checkpoint.state.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := weights.ReadSafetensors(raw)
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ T int }
	json.Unmarshal([]byte(f.Metadata["state"]), &st)
	if logged := len(lossLog(t, out)); st.T < 3 || st.T != logged {
		t.Errorf("checkpoint at t = %d with %d logged iterations; want the same, at least 3", st.T, logged)
	}
}

// TestTrainErrors checks that bad flags and data give clear messages and
// the documented exit codes.
func TestTrainErrors(t *testing.T) {
	c := tinyTrainData(t)
	out := t.TempDir()
	badJSON := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(badJSON, []byte(`{"images": [`), 0o644)
	notCkpt := filepath.Join(t.TempDir(), "x.safetensors")
	os.WriteFile(notCkpt, []byte("not a checkpoint"), 0o644)
	base := func(extra ...string) []string { return tinyTrainArgs(c, out, 2, extra...) }
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown flag", base("--no_such_flag", "1"), exitUsage, "flag provided but not defined"},
		{"positional", base("extra"), exitUsage, `unexpected argument "extra"`},
		{"batch size", base("--batch_size", "0"), exitUsage, "--batch_size 0"},
		{"image size", base("--image_size", "20,20"), exitUsage, "not divisible"},
		{"image size form", base("--image_size", "a,b"), exitUsage, "not an integer"},
		{"gan loss", base("--gan_loss_type", "hinge"), exitUsage, "--gan_loss_type"},
		{"arch", base("--d_img_arch", "C4-8-2,C4-16-2,C4-32-2"), exitUsage, "shrinks 16x16 images to nothing"},
		{"bool", base("--coco_stuff_only", "maybe"), exitUsage, "want 0 or 1"},
		{"dataset", base("--dataset", "imagenet"), exitUsage, `--dataset "imagenet"`},
		{"world, not square", base("--dataset", "world", "--image_size", "16,32"), exitInput, "square images"},
		{"missing images", base("--coco_train_image_dir", filepath.Join(out, "nope")), exitInput, "--coco_train_image_dir"},
		{"missing instances", base("--coco_train_instances_json", filepath.Join(out, "nope.json")), exitInput, "no such file"},
		{"missing val", base("--coco_val_instances_json", filepath.Join(out, "nope.json")), exitInput, "to train without validation"},
		{"corrupt json", base("--coco_train_instances_json", badJSON), exitInput, "bad.json"},
		{"empty after filters", base("--min_objects_per_image", "7", "--max_objects_per_image", "8"), exitInput, "training set is empty"},
		{"bad start checkpoint", base("--checkpoint_start_from", notCkpt), exitModel, "x.safetensors"},
		{"missing start checkpoint", base("--checkpoint_start_from", filepath.Join(out, "none.pt")), exitModel, "none.pt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := sg2im(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, want %d; stderr should mention %q:\n%s", code, tc.code, tc.msg, stderr)
			}
		})
	}
}

// TestTrainStartFromOtherVocab refuses a start checkpoint trained on
// other categories.
func TestTrainStartFromOtherVocab(t *testing.T) {
	c := tinyTrainData(t)
	code, _, stderr := sg2im(tinyTrainArgs(c, t.TempDir(), 2, "--checkpoint_start_from", testdata("tiny_masks.zip.pt"))...)
	if code != exitModel || !strings.Contains(stderr, "vocabulary") {
		t.Errorf("exit %d, want %d with a vocabulary message:\n%s", code, exitModel, stderr)
	}
}

// TestMergeBoolValues checks the release's "--flag 0" spelling.
func TestMergeBoolValues(t *testing.T) {
	fs := newFlags("x", "", &bytes.Buffer{})
	var b bool
	var n int
	fs.Var(releaseBool{&b}, "flag", "")
	fs.IntVar(&n, "n", 0, "")
	got := mergeBoolValues(fs, []string{"--flag", "0", "--n", "1", "-flag", "true", "--flag", "--n", "2"})
	want := []string{"--flag=0", "--n", "1", "-flag=true", "--flag", "--n", "2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestTrainSkipsUnreadableBatches deletes an image: the batches holding it
// are skipped with a warning and counted, and training goes on.
func TestTrainSkipsUnreadableBatches(t *testing.T) {
	c := tinyTrainData(t)
	if err := os.Remove(filepath.Join(c.ImageDir, "000002.png")); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, stdout, stderr := sg2im(tinyTrainArgs(c, out, 8)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "warning: batch") || !strings.Contains(stdout, "000002.png") {
		t.Errorf("no warning naming the missing image:\n%s", stdout)
	}
	if strings.Contains(stdout, " 0 batch(es) failed to load") || len(lossLog(t, out)) != 8 {
		t.Errorf("want 8 trained iterations and a non-zero count of failed batches:\n%s", stdout)
	}
}

// TestTrainWorld streams the procedural world into training, with its
// held-out split for validation, and checks the checkpoint generates.
func TestTrainWorld(t *testing.T) {
	out := t.TempDir()
	args := []string{"train", "--dataset", "world",
		"--image_size", "16,16", "--mask_size", "8", "--embedding_dim", "16", "--gconv_dim", "16",
		"--gconv_hidden_dim", "32", "--gconv_num_layers", "1", "--refinement_network_dims", "8,4",
		"--layout_noise_dim", "2", "--d_obj_arch", "C4-8-2", "--d_img_arch", "C4-8-2",
		"--crop_size", "8", "--batch_size", "2", "--print_every", "1", "--checkpoint_every", "4",
		"--seed", "3", "--output_dir", out, "--num_iterations", "4"}
	if code, _, stderr := sg2im(args...); code != 0 {
		t.Fatalf("train --dataset world: exit %d\n%s", code, stderr)
	}
	if n := len(lossLog(t, out)); n != 4 {
		t.Errorf("%d logged iterations, want 4", n)
	}
	graphs := filepath.Join(out, "g.json")
	os.WriteFile(graphs, []byte(`{"objects": ["sky", "sea", "boat"], "relationships": [[2, "on", 1], [0, "above", 1]]}`), 0o644)
	if code, _, stderr := sg2im("generate", "--model", filepath.Join(out, "checkpoint.safetensors"), "--graphs", graphs, "--out", filepath.Join(out, "img")); code != 0 {
		t.Fatalf("generate from the world checkpoint: exit %d\n%s", code, stderr)
	}
}

// TestTrainSecondSIGINTWhenIgnored starts the binary with SIGINT ignored, as
// a shell script's background job is: the first SIGINT still asks for a
// checkpoint, the second aborts at once.
func TestTrainSecondSIGINTWhenIgnored(t *testing.T) {
	bin := buildCLI(t)
	c := tinyTrainData(t)
	out := t.TempDir()
	args := append([]string{"-c", `trap "" INT; exec "$0" "$@"`, bin}, tinyTrainArgs(c, out, 1000000)...)
	cmd := exec.Command("/bin/sh", args...)
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor := func(what string, cond func() bool) {
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s after 60 s\n%s\n%s", what, stdout.String(), stderr.String())
			}
		}
	}
	waitFor("progress", func() bool {
		b, _ := os.ReadFile(filepath.Join(out, "losses.jsonl"))
		return bytes.Count(b, []byte("\n")) >= 2
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitFor("stopping message", func() bool { return strings.Contains(stderr.String(), "stopping after this iteration") })
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitAborted || !strings.Contains(stderr.String(), "aborted without a checkpoint") {
		t.Errorf("exit %d after a second SIGINT, want %d and a message\n%s", code, exitAborted, stderr.String())
	}
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
