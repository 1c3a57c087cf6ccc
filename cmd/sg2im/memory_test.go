//go:build linux

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sg2im-go/sg2im/bench"
	"github.com/sg2im-go/sg2im/internal/fixture"
	"github.com/sg2im-go/sg2im/weights"
)

// Peak resident memory of loading a model (`sg2im inspect`: read the file,
// build the generator), per byte of the file.
const (
	maxSafetensorsRSS = 1.3
	maxTorchRSS       = 1.5
)

// TestLoadPeakMemory measures the peak resident memory (VmHWM, as the
// child's ru_maxrss) of `sg2im inspect` on a model of the release's coco64
// size, as float32 safetensors and as release-style .pt files (legacy and
// zip, when PyTorch is there to write them), against the file's size.
func TestLoadPeakMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and loads model files of ~100 MB; skipped with -short")
	}
	bin := buildCLI(t)
	dir := t.TempDir()
	st := filepath.Join(dir, "coco64.safetensors")
	writeBenchModel(t, st)
	tiny := filepath.Join(dir, "tiny.safetensors")
	if code, _, errs := sg2im("convert", testdata("tiny_masks.legacy.pt"), tiny); code != exitOK {
		t.Fatalf("convert: %s", errs)
	}
	own := peakRSS(t, bin, tiny)
	if own == 0 {
		own = selfRSS(t) // the child stayed below this process's own peak
		t.Logf("measured: the binary itself (a tiny model): peak RSS at most %.1f MB", float64(own)/1e6)
	} else {
		t.Logf("measured: the binary itself (a tiny model): peak RSS %.1f MB", float64(own)/1e6)
	}
	check := func(path string, limit float64) {
		t.Helper()
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		peak := peakRSS(t, bin, path)
		if peak == 0 {
			t.Fatalf("%s: the child's peak memory is below this test's own: cannot be measured", path)
		}
		ratio := float64(peak) / float64(info.Size())
		t.Logf("measured: %s: %.1f MB file, peak RSS %.1f MB: %.2fx its size (%.2fx counting only what is above the binary's own)",
			filepath.Base(path), float64(info.Size())/1e6, float64(peak)/1e6, ratio, float64(peak-own)/float64(info.Size()))
		if limit > 0 && ratio > limit {
			t.Errorf("%s: peak RSS %.2fx the file's size, want at most %.2fx", filepath.Base(path), ratio, limit)
		}
	}
	check(st, maxSafetensorsRSS)
	f16 := filepath.Join(dir, "coco64-f16.safetensors")
	if code, _, errs := sg2im("convert", "--dtype", "f16", st, f16); code != exitOK {
		t.Fatalf("convert: %s", errs)
	}
	check(f16, 0) // float32 in memory: twice the file by design; reported only
	legacy, zip := filepath.Join(dir, "coco64.legacy.pt"), filepath.Join(dir, "coco64.zip.pt")
	if err := writeTorch(st, legacy, zip); err != nil {
		t.Logf("no .pt measured: %v", err)
		return
	}
	check(legacy, maxTorchRSS)
	check(zip, maxTorchRSS)
}

// writeBenchModel saves a generator of the release's coco64 architecture
// (random weights) as safetensors.
func writeBenchModel(t *testing.T, path string) {
	t.Helper()
	g, err := bench.NewGenerator("coco64")
	if err != nil {
		t.Fatal(err)
	}
	kw, err := json.Marshal(g.Config)
	if err != nil {
		t.Fatal(err)
	}
	ck := &weights.Checkpoint{ModelKwargs: kw, Model: g.State()}
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
}

// peakRSS runs `sg2im inspect path` and returns its peak resident memory.
//
// Linux counts in a child's ru_maxrss the peak of the process it was
// started from, up to its exec (Go starts children with vfork), so this
// process first gives its free memory back and resets its own peak
// (clear_refs), and the figure is refused unless the child's peak is above
// this process's: 0 when it is not.
func peakRSS(t *testing.T, bin, path string) int64 {
	t.Helper()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset this process's peak memory: %v", err)
	}
	parent := selfRSS(t)
	cmd := exec.Command(bin, "inspect", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("inspect %s: %v\n%s", path, err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Skip("no rusage on this system")
	}
	peak := ru.Maxrss * 1024 // kilobytes on Linux
	if peak <= parent {
		return 0 // below what can be measured
	}
	return peak
}

// selfRSS is this process's peak resident memory (VmHWM) in bytes.
func selfRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	t.Skip("no VmHWM in /proc/self/status")
	return 0
}

// writeTorch writes the safetensors file's generator as a release
// checkpoint, in PyTorch's legacy and zip serialisations (Debian's
// python3-torch; an error when it is missing).
func writeTorch(st, legacy, zip string) error {
	const script = fixture.TorchLoadSafetensors + `
legacy, zipped = sys.argv[2:4]
ck = {"model_kwargs": json.loads(meta["model_kwargs"]), "model_state": state}
torch.save(ck, legacy, _use_new_zipfile_serialization=False)
torch.save(ck, zipped)
`
	cmd := exec.Command("/usr/bin/python3", "-c", script, st, legacy, zip)
	if out, err := cmd.CombinedOutput(); err != nil {
		return &exec.Error{Name: "python3 (PyTorch): " + string(out), Err: err}
	}
	return nil
}
