package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// shipModel writes the app's model into dir as `make app` does: the
// shipped model stored as float16, without its discriminators.
func shipModel(dir string) error {
	out := filepath.Join(dir, "model.safetensors")
	cmd := exec.Command("go", "run", "../cmd/sg2im", "convert", "--dtype", "f16", "--generator_only",
		filepath.Join("..", "weights", "shipped", "model.safetensors"), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("converting the shipped model: %v\n%s", err, b)
	}
	info, err := os.Stat(out)
	if err != nil {
		return err
	}
	if info.Size() > maxShippedModelBytes {
		return fmt.Errorf("the app's model has %d bytes, want at most %d", info.Size(), maxShippedModelBytes)
	}
	return nil
}

// maxShippedModelBytes bounds the app's and the widget's model file.
const maxShippedModelBytes = 6 << 20

// swCachedPathsJS resolves, once the service worker is active, to the
// paths its app cache holds.
const swCachedPathsJS = `navigator.serviceWorker.ready
  .then(() => caches.open("sg2im-v4")).then((c) => c.keys())
  .then((ks) => { window.swCached = ks.map((r) => new URL(r.url).pathname) })`

// TestFirstVisit checks that a first visit to the app fetches each file
// once, though both the page and the service worker's install want them,
// and at most 7 MB in all.
func TestFirstVisit(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take a minute; skipped with -short")
	}
	bctx := browser(t)
	srv, hits := serveCounting(t, buildWidget(t))
	ctx := newTab(t, bctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "first image", drawnJS, 90*time.Second)
	t.Logf("measured (loaded machine): navigation to first image, cold: %.0f ms", eval[float64](t, ctx, "performance.now()"))
	do(t, ctx, swCachedPathsJS)
	waitFor(t, ctx, "service worker installed", `window.swCached !== undefined`, 60*time.Second)
	cached := eval[[]string](t, ctx, `window.swCached`)
	// The page is cross-origin isolated: the engine is the shared-memory
	// variant (threads), and the single-thread one is neither fetched nor kept.
	// (kernel-fma-mt.wasm where the browser has relaxed SIMD).
	kernel, single := "/"+eval[string](t, ctx, `sg2imKernelName(true)`), "/"+eval[string](t, ctx, `sg2imKernelName(false)`)
	for _, p := range []string{"/", "/app-mt.wasm", kernel, "/model.safetensors", "/wasm_exec.js", "/worker.js"} {
		if !slices.Contains(cached, p) {
			t.Errorf("the service worker did not keep %s (it has %v)", p, cached)
		}
	}
	files, total := hits.report()
	t.Logf("measured: first visit: %d bytes of response bodies (%s)", total, files)
	hits.mu.Lock()
	defer hits.mu.Unlock()
	for p, s := range hits.paths {
		if s.downloads > 1 {
			t.Errorf("%s was sent %d times on one visit, want once", p, s.downloads)
		}
	}
	for _, p := range []string{"/app.wasm", single} {
		if slices.Contains(cached, p) || hits.paths[p] != nil && hits.paths[p].downloads > 0 {
			t.Errorf("the isolated app fetched or kept the single-thread engine's %s", p)
		}
	}
	for _, p := range []string{"/sg2im-widget.js", "/embed.html", "/embed.css"} {
		if s := hits.paths[p]; s != nil && s.downloads > 0 {
			t.Errorf("the app's first visit fetched the widget's %s", p)
		}
	}
	if total > maxFirstVisitBytes {
		t.Errorf("the first visit transferred %d bytes, want at most %d", total, maxFirstVisitBytes)
	}
}

// maxFirstVisitBytes bounds what a first visit to the app transfers.
const maxFirstVisitBytes = 7_000_000

// allCachedJS sets window.allCached to the paths held in any of the
// origin's caches.
const allCachedJS = `window.allCached = undefined; caches.keys()
  .then((ns) => Promise.all(ns.map((n) => caches.open(n).then((c) => c.keys()))))
  .then((ks) => { window.allCached = ks.flat().map((r) => new URL(r.url).pathname) })`

func allCached(t *testing.T, ctx context.Context) []string {
	t.Helper()
	do(t, ctx, allCachedJS)
	waitFor(t, ctx, "cache listing", `window.allCached !== undefined`, 10*time.Second)
	return eval[[]string](t, ctx, `window.allCached`)
}

const usageJS = `document.getElementById("storage-usage").textContent`

// TestCachePolicy checks what the service worker keeps: the app and the
// shipped model, another model only when the user asks; the page says how
// much is stored and clears it.
func TestCachePolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take a minute; skipped with -short")
	}
	bctx := browser(t)
	dir := buildApp(t)
	pt, _ := filepath.Abs(filepath.Join("..", "testdata", "tiny_masks.legacy.pt"))
	b, err := os.ReadFile(pt)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other.pt"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	srv, _ := serveCounting(t, dir)
	ctx := newTab(t, bctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "first image", drawnJS, 90*time.Second)
	waitFor(t, ctx, "app stored", usageJS+`.startsWith("Stored for offline use")`, 60*time.Second)
	if eval[bool](t, ctx, `document.getElementById("keep-model").checkVisibility()`) {
		t.Error("the keep button is offered for the shipped model")
	}
	if u := eval[string](t, ctx, usageJS); !strings.Contains(u, "the app and its model, ") || !strings.Contains(u, "No models of yours are kept") {
		t.Errorf("the storage panel says %q", u)
	}
	screenshot(t, ctx, "storage-1-app")

	t.Log("another model fetched through the service worker is not kept")
	waitFor(t, ctx, "controlled page", `navigator.serviceWorker.controller !== null`, 30*time.Second)
	do(t, ctx, `window.fetchedOther = false; fetch("other.pt").then((r) => r.arrayBuffer()).then(() => { window.fetchedOther = true })`)
	waitFor(t, ctx, "other model fetched", `window.fetchedOther`, 30*time.Second)
	if c := allCached(t, ctx); slices.Contains(c, "/other.pt") || !slices.Contains(c, "/model.safetensors") {
		t.Errorf("caches hold %v: want the shipped model, not other.pt", c)
	}

	t.Log("a picked model is kept when the user asks, and opens after a reload")
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#model-file", []string{pt})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "picked model", `document.getElementById("model-status").textContent.startsWith("tiny_masks.legacy.pt")`, 60*time.Second)
	waitFor(t, ctx, "keep offered", `document.getElementById("keep-model").checkVisibility()`, 10*time.Second)
	for _, p := range allCached(t, ctx) {
		if strings.Contains(p, "kept") || strings.Contains(p, "tiny") {
			t.Errorf("the picked model was stored before the user asked (%s)", p)
		}
	}
	do(t, ctx, `document.getElementById("keep-model").click()`)
	waitFor(t, ctx, "model kept", `document.querySelectorAll("#kept-models li").length === 1`, 30*time.Second)
	if u := eval[string](t, ctx, usageJS); !strings.Contains(u, "Models you kept: 1") {
		t.Errorf("after keeping, the panel says %q", u)
	}
	if eval[bool](t, ctx, `document.getElementById("keep-model").checkVisibility()`) {
		t.Error("the keep button is still offered for a kept model")
	}
	screenshot(t, ctx, "storage-2-kept")
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "kept model listed", `document.querySelectorAll("#kept-models li").length === 1 && `+drawnJS, 90*time.Second)
	if li := eval[string](t, ctx, `document.querySelector("#kept-models li").textContent`); !strings.Contains(li, "tiny_masks.legacy.pt") {
		t.Errorf("the kept model is listed as %q", li)
	}
	do(t, ctx, `document.querySelector("#kept-models li button").click()`)
	waitFor(t, ctx, "kept model opened", `document.getElementById("model-status").textContent.startsWith("tiny_masks.legacy.pt")`, 60*time.Second)
	setInput(t, ctx, "#text-input", "sky above grass; sheep inside grass")
	waitFor(t, ctx, "kept model's image", drawnJS+` && document.getElementById("image").width === 32`, 60*time.Second)

	t.Log("the model of a ?model= address is kept only when the user asks")
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?model=other.pt")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the address's model", `document.getElementById("model-status").textContent.startsWith("other.pt:")`, 60*time.Second)
	if c := allCached(t, ctx); slices.Contains(c, "/other.pt") {
		t.Errorf("the address's model was stored before the user asked: %v", c)
	}
	waitFor(t, ctx, "keep offered for the address's model", `document.getElementById("keep-model").checkVisibility()`, 10*time.Second)
	do(t, ctx, `document.getElementById("keep-model").click()`)
	waitFor(t, ctx, "address model kept", `document.querySelectorAll("#kept-models li").length === 2`, 30*time.Second)
	if c := allCached(t, ctx); !slices.Contains(c, "/other.pt") {
		t.Errorf("after keeping, the caches hold %v, not /other.pt", c)
	}
	if eval[bool](t, ctx, `document.getElementById("keep-model").checkVisibility()`) {
		t.Error("the keep button is still offered for the kept address's model")
	}

	t.Log("removing all stored files empties the caches")
	do(t, ctx, `document.getElementById("clear-storage").click()`)
	waitFor(t, ctx, "storage cleared", usageJS+`.startsWith("Nothing is stored")`, 30*time.Second)
	if c := allCached(t, ctx); len(c) != 0 {
		t.Errorf("after clearing, the caches hold %v", c)
	}
	screenshot(t, ctx, "storage-3-cleared")
}

// engineWorkers lists the ids of the browser's engine workers (worker.js)
// and counts the others, the helper workers of the threaded engine
// (web/load.js).
func engineWorkers(t *testing.T, ctx context.Context) (ids []string, helpers int) {
	t.Helper()
	infos, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		switch {
		case in.Type != "worker":
		case strings.Contains(in.URL, "/worker.js"):
			ids = append(ids, string(in.TargetID))
		default: // a nested worker's URL reads "" (blob: in web/load.js)
			helpers++
		}
	}
	return ids, helpers
}

// waitWorkers waits until the browser has exactly one engine worker that
// is not among old, with its helpers alone (one per core but one, up to
// 7: the previous engine's have ended), and returns its id.
func waitWorkers(t *testing.T, ctx context.Context, what string, old []string) string {
	t.Helper()
	want := min(eval[int](t, ctx, `navigator.hardwareConcurrency`), 8) - 1
	var ids []string
	var helpers int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		ids, helpers = engineWorkers(t, ctx)
		if len(ids) == 1 && !slices.Contains(old, ids[0]) && helpers == want {
			return ids[0]
		}
	}
	t.Fatalf("%s: engine workers %v and %d helpers, want one new one (old %v) and %d helpers", what, ids, helpers, old, want)
	return ""
}

// TestModelSwitch checks that each model after the first gets a fresh
// engine worker, the previous one ended: WebAssembly memory never shrinks,
// so nothing of the previous model may stay behind.
func TestModelSwitch(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take a minute; skipped with -short")
	}
	ctx := browser(t)
	url, stop := serve(t, buildApp(t))
	defer stop()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "first image", drawnJS, 90*time.Second)
	first := waitWorkers(t, ctx, "the shipped model's engine", nil)

	t.Log("a picked model gets its own engine; the shipped model's ends")
	pt, _ := filepath.Abs(filepath.Join("..", "testdata", "tiny_masks.legacy.pt"))
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#model-file", []string{pt})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "picked model", `document.getElementById("model-status").textContent.startsWith("tiny_masks.legacy.pt")`, 60*time.Second)
	setInput(t, ctx, "#text-input", "sky above grass; sheep inside grass")
	waitFor(t, ctx, "picked model's image", drawnJS+` && document.getElementById("image").width === 32`, 60*time.Second)
	second := waitWorkers(t, ctx, "the picked model's engine", []string{first})

	t.Log("a model that fails to load leaves the engine that draws as it was")
	broken := filepath.Join(t.TempDir(), "broken.safetensors")
	if err := os.WriteFile(broken, []byte("this is not a model at all, just some text of some length"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#model-file", []string{broken})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "a failed load", `document.getElementById("model-error").textContent.includes("broken.safetensors")`, 30*time.Second)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		ids, _ := engineWorkers(t, ctx)
		if len(ids) == 1 && ids[0] == second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a failed load the workers are %v, want the picked model's %s alone", ids, second)
		}
	}
	before := eval[string](t, ctx, imageHashJS)
	setInput(t, ctx, "#text-input", "sky above grass; sheep inside grass; sky above sheep")
	waitFor(t, ctx, "a drawing after the failure", fmt.Sprintf(`%s && document.getElementById("image").width === 32 && (%s) !== %q`, drawnJS, imageHashJS, before), 60*time.Second)

	t.Log("back to the shipped model: a third engine")
	do(t, ctx, `const s = document.getElementById("model-select"); s.value = "shipped"; s.dispatchEvent(new Event("change"))`)
	waitFor(t, ctx, "shipped model again", `document.getElementById("model-status").textContent.startsWith("shipped model")`, 60*time.Second)
	waitFor(t, ctx, "shipped model's image", drawnJS+` && document.getElementById("image").width === 64`, 60*time.Second)
	waitWorkers(t, ctx, "the shipped model's new engine", []string{first, second})
	if h := eval[string](t, ctx, imageHashJS); h == "" {
		t.Error("the image after switching back is blank")
	}
}
