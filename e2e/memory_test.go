//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/sg2im-go/sg2im/bench"
	"github.com/sg2im-go/sg2im/internal/fixture"
	"github.com/sg2im-go/sg2im/weights"
)

// maxRendererBytes is the bound on the renderer's peak memory
// while a release-size coco64.pt is picked, loaded and drawn.
const maxRendererBytes = 1_000_000_000

// TestModelFileMemory loads a model of the release's coco64 size (a
// legacy .pt of ~343 MB when PyTorch can write one), picked through the
// model file input and then downloaded through a ?model= address, each in
// a fresh browser; it waits for the model's first image and measures the
// peak resident memory (VmHWM) of the browser's renderer processes, where
// the page and its engine workers run.
func TestModelFileMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a ~343 MB model and loads it in the browser; skipped with -short")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc to read the renderer's memory from")
	}
	path, what := writeReleaseSizeModel(t)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("model: %s, %.1f MB", what, float64(info.Size())/1e6)
	name := filepath.Base(path)
	t.Run("picked", func(t *testing.T) {
		ctx := browser(t)
		url, stop := serve(t, buildApp(t))
		defer stop()
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "first image", drawnJS, 90*time.Second)
		// A scene in the words of both the shipped model and the picked one.
		setInput(t, ctx, "#text-input", sceneOfBoth)
		before := waitNewImage(t, ctx, "the scene's image", eval[string](t, ctx, imageHashJS))

		t.Log("a file beyond the bound is refused in words, before anything is read")
		huge := filepath.Join(t.TempDir(), "huge.pt")
		if err := os.WriteFile(huge, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(huge, 2<<30); err != nil { // sparse: no disk used
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#model-file", []string{huge})); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the refusal", `document.getElementById("model-error").textContent.includes("huge.pt")`, 30*time.Second)
		if msg := eval[string](t, ctx, `document.getElementById("model-error").textContent`); !strings.Contains(msg, "2147 MB, more than the 1074 MB a model may have") {
			t.Errorf("the error for a 2 GiB file is %q, want one giving its size and the bound", msg)
		}
		logRenderers(t, ctx, "before picking")
		start := time.Now()
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#model-file", []string{path})); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "picked model", fmt.Sprintf(`document.getElementById("model-status").textContent.startsWith(%q)`, name), 120*time.Second)
		waitNewImage(t, ctx, "picked model's first image", before)
		t.Logf("measured: picking to first image: %.1f s", time.Since(start).Seconds())
		checkRendererPeak(t, ctx, info.Size())
	})
	t.Run("downloaded", func(t *testing.T) {
		ctx := browser(t)
		dir := buildApp(t)
		if err := os.Symlink(path, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		url, stop := serve(t, dir)
		defer stop()
		// Every text the model's status line shows, from the start.
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: recordStatusJS}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := chromedp.Do(ctx, chromedp.Navigate(url+"?model="+name)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "downloaded model", fmt.Sprintf(`document.getElementById("model-status").textContent.startsWith(%q)`, name+":"), 120*time.Second)
		t.Logf("measured: navigation to the model loaded: %.1f s", time.Since(start).Seconds())
		setInput(t, ctx, "#text-input", sceneOfBoth)
		waitNewImage(t, ctx, "downloaded model's first image", "")
		times := eval[[]float64](t, ctx, fmt.Sprintf(`(() => {
		  const at = (i) => window.statusTimes[i] / 1e3, texts = window.statusTexts;
		  const loaded = texts.findIndex((s) => s.startsWith(%q));
		  return [at(texts.findIndex((s) => / MB$/.test(s))), at(texts.findLastIndex((s) => / MB$/.test(s))), at(loaded)];
		})()`, name+":"))
		t.Logf("measured: download progress from %.1f s to %.1f s after navigation, the model loaded at %.1f s", times[0], times[1], times[2])
		progress := eval[[]string](t, ctx, "window.statusTexts.filter((s) => / MB$/.test(s))")
		t.Logf("the status line showed %d progress texts, the last %q", len(progress), progress[max(len(progress)-1, 0):])
		if len(progress) == 0 || !strings.HasPrefix(progress[len(progress)-1], "Loading "+name+"… ") {
			t.Errorf("no download progress was shown (status texts %q)", eval[[]string](t, ctx, "window.statusTexts"))
		}
		checkRendererPeak(t, ctx, info.Size())
	})
}

// sceneOfBoth is a scene in the words of the shipped model and of the
// coco64-size one (bench.Vocab).
const sceneOfBoth = "sky above grass; sheep inside grass; tree right of sheep"

// recordStatusJS keeps in window.statusTexts each text of the model's
// status line, and in window.statusTimes when it came (ms since
// navigation).
const recordStatusJS = `window.statusTexts = [], window.statusTimes = [];
new MutationObserver(() => {
  const e = document.getElementById("model-status");
  const s = e && e.textContent;
  if (s && s !== window.statusTexts[window.statusTexts.length - 1]) {
    window.statusTexts.push(s);
    window.statusTimes.push(performance.now());
  }
}).observe(document, { subtree: true, childList: true, characterData: true });`

// logRenderers logs the renderers' peak memory so far.
func logRenderers(t *testing.T, ctx context.Context, when string) {
	t.Helper()
	for _, r := range renderers(t, chromedp.FromContext(ctx).Browser.Process().Pid) {
		t.Logf("measured: renderer %d %s: peak RSS %.1f MB", r.pid, when, float64(r.peak)/1e6)
	}
}

// checkRendererPeak logs each renderer's peak memory and wants the
// largest, the page's and its workers' included, within the bound.
func checkRendererPeak(t *testing.T, ctx context.Context, fileSize int64) {
	t.Helper()
	if msg := eval[string](t, ctx, `document.getElementById("model-error").textContent`); msg != "" {
		t.Errorf("the page shows an error: %q", msg)
	}
	rs := renderers(t, chromedp.FromContext(ctx).Browser.Process().Pid)
	if len(rs) == 0 {
		t.Fatal("no renderer process found under the browser")
	}
	var peak int64
	for _, r := range rs {
		t.Logf("measured: renderer %d after the first image: peak RSS (VmHWM) %.1f MB", r.pid, float64(r.peak)/1e6)
		peak = max(peak, r.peak)
	}
	t.Logf("measured: the renderers' largest peak RSS: %.1f MB (%.2fx the file)", float64(peak)/1e6, float64(peak)/float64(fileSize))
	if peak > maxRendererBytes {
		t.Errorf("a renderer peaked at %.1f MB, want at most %.1f MB", float64(peak)/1e6, maxRendererBytes/1e6)
	}
}

// renderer is one of the browser's renderer processes.
type renderer struct {
	pid  int
	peak int64 // VmHWM in bytes
}

// renderers lists the renderer processes (--type=renderer) descended from
// the browser process, with their peak resident memory. Linux starts them
// from the zygote, a child of the browser, so descendants are followed.
func renderers(t *testing.T, browserPID int) []renderer {
	t.Helper()
	children := map[int][]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if ppid, ok := parentPID(d); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []renderer
	queue := []int{browserPID}
	for len(queue) > 0 {
		pid := queue[0]
		queue = append(queue[1:], children[pid]...)
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if !strings.Contains(string(cmd), "--type=renderer") {
			continue
		}
		if peak, ok := statusBytes(pid, "VmHWM:"); ok {
			out = append(out, renderer{pid, peak})
		}
	}
	return out
}

// parentPID reads the parent's id from a /proc/PID directory's stat.
func parentPID(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return 0, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// statusBytes reads a "kB" field of /proc/PID/status in bytes.
func statusBytes(pid int, field string) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

// writeReleaseSizeModel writes a model of the release's coco64.pt size
// and layout: a legacy .pt holding the coco64 generator (random weights)
// and, as the release's file does, Adam's two moments of each of its
// tensors (optimizer state, which loading skips). Without PyTorch it
// writes a .safetensors of the same size instead: the generator and a
// discriminator's worth of padding, all of it read. It says which.
func writeReleaseSizeModel(t *testing.T) (path, what string) {
	t.Helper()
	dir := t.TempDir()
	g, err := bench.NewGenerator("coco64")
	if err != nil {
		t.Fatal(err)
	}
	kw, err := json.Marshal(g.Config)
	if err != nil {
		t.Fatal(err)
	}
	ck := &weights.Checkpoint{ModelKwargs: kw, Model: g.State()}
	st := filepath.Join(dir, "generator.safetensors")
	if err := ck.Save(st); err != nil {
		t.Fatal(err)
	}
	pt := filepath.Join(dir, "coco64.pt")
	out, err := exec.Command("/usr/bin/python3", "-c", releaseScript, st, pt).CombinedOutput()
	if err == nil {
		os.Remove(st)
		return pt, "a legacy .pt written by PyTorch: the coco64 generator and Adam's state for it"
	}
	t.Logf("PyTorch could not write a .pt (%v: %s); writing a .safetensors instead", err, strings.TrimSpace(string(out)))
	return writePaddedSafetensors(t, ck, dir), "a .safetensors (no PyTorch): the coco64 generator and 225 MB of discriminator tensors, all of them read"
}

// writePaddedSafetensors writes ck with a discriminator of twice the
// generator's size, so that the file has the release's size.
func writePaddedSafetensors(t *testing.T, ck *weights.Checkpoint, dir string) string {
	t.Helper()
	ck.DImgKwargs = json.RawMessage(`{}`)
	for _, m := range []string{"exp_avg.", "exp_avg_sq."} {
		for _, x := range ck.Model {
			ck.DImg = append(ck.DImg, weights.Tensor{Name: m + x.Name, DType: weights.F32, T: x.T})
		}
	}
	path := filepath.Join(dir, "coco64.safetensors")
	if err := ck.Save(path); err != nil {
		t.Skipf("cannot write the model: %v", err)
	}
	return path
}

// releaseScript writes a safetensors generator as a release-style legacy
// checkpoint, with an Adam optimizer's state beside it.
const releaseScript = fixture.TorchLoadSafetensors + `
dst = sys.argv[2]
floats = [t for t in state.values() if t.is_floating_point()]
optim = {"state": {i: {"step": 1, "exp_avg": t.clone(), "exp_avg_sq": t.clone()} for i, t in enumerate(floats)},
         "param_groups": [{"lr": 1e-4, "betas": (0.5, 0.999), "params": list(range(len(floats)))}]}
ck = {"args": {"dataset": "coco", "image_size": [64, 64]}, "model_kwargs": json.loads(meta["model_kwargs"]),
      "model_state": state, "optim_state": optim}
torch.save(ck, dst, _use_new_zipfile_serialization=False)
`
