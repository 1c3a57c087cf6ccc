// Package e2e drives the browser app in headless Chromium: it builds the
// app, serves it with the project's server and checks what a user sees.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/sg2im-go/sg2im/server"
)

// artifacts is where screenshots go; CI keeps the directory.
var artifacts = envOr("SG2IM_ARTIFACTS", filepath.Join("..", "artifacts", "e2e"))

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// buildApp gives a test its own copy of the app, assembled once as `make
// app` does (a stripped wasm, the f16 model), without the precompressed
// variants.
func buildApp(t *testing.T) string {
	t.Helper()
	builtApp.once.Do(func() { builtApp.dir, builtApp.err = assembleApp() })
	if builtApp.err != nil {
		t.Fatal(builtApp.err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(builtApp.dir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// builtApp is the app assembled once per test binary; each test serves its
// own copy, since some add files to theirs.
var builtApp struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtApp.dir != "" {
		os.RemoveAll(builtApp.dir)
	}
	os.Exit(code)
}

// assembleApp builds the wasm (and its shared-memory variant), copies the page's files and converts the
// shipped model into a new temporary directory.
func assembleApp() (string, error) {
	dir, err := os.MkdirTemp("", "sg2im-e2e-app")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-o", filepath.Join(dir, "app.wasm"), "../cmd/sg2im-web")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return dir, fmt.Errorf("building the wasm: %v\n%s", err, out)
	}
	cmd = exec.Command("go", "run", "../tools/wasmshared", filepath.Join(dir, "app.wasm"), filepath.Join(dir, "app-mt.wasm"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return dir, fmt.Errorf("writing app-mt.wasm: %v\n%s", err, out)
	}
	copyFile := func(src, dst string) error {
		b, err := os.ReadFile(src)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, dst), b, 0o644)
		}
		return err
	}
	web, _ := filepath.Glob(filepath.Join("..", "web", "*"))
	for _, f := range web {
		if err := copyFile(f, filepath.Base(f)); err != nil {
			return dir, err
		}
	}
	if err := copyFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"), "wasm_exec.js"); err != nil {
		return dir, err
	}
	return dir, shipModel(dir)
}

// serve starts the project's server on a fixed loopback port (the service
// worker is per origin, so a restart must reuse it) and returns its URL and
// a stop function.
func serve(t *testing.T, dir string) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: server.New(os.DirFS(dir), server.Options{})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/", func() { srv.Close() }
}

// browser starts headless Chromium with the flags this machine needs; it
// stops when the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	ctx, stop := newBrowser(t)
	t.Cleanup(stop)
	return ctx
}

// newBrowser starts headless Chromium and returns a function that stops it.
func newBrowser(t *testing.T) (context.Context, func()) {
	t.Helper()
	path := findChromium()
	if path == "" {
		t.Skip("Chromium is not installed (apt-get install chromium); skipping the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1100))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel2 := chromedp.NewContext(actx)
	stop := func() { cancel2(); cancel() }
	// Start the browser now, so later timeouts count page work only.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		stop()
		t.Fatalf("starting Chromium: %v", err)
	}
	// A failure should say which browser it met.
	if v, err := chromedp.CallBrowser(ctx, cdpbrowser.GetVersion, cdp.Empty{}); err == nil {
		t.Logf("browser: %s, %s", path, v.Product)
	}
	return ctx, stop
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.MkdirAll(artifacts, 0o755)
	path := filepath.Join(artifacts, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Log(err)
	}
}

// eval runs a JavaScript expression and returns its value.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// do runs JavaScript statements for their effect. Their value is dropped:
// what DOM methods return differs between browser versions
// (scrollIntoView returns a Promise in newer Chromium, undefined before).
func do(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("(() => { "+js+"; return true })()")); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
}

// waitFor polls a JavaScript condition until it holds or the time is up.
func waitFor(t *testing.T, ctx context.Context, what, cond string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("status")||{}).textContent + " | " + (document.getElementById("model-status")||{}).textContent`))
	screenshot(t, ctx, "timeout-"+strings.ReplaceAll(what, " ", "-"))
	t.Fatalf("timed out waiting for %s (page says %q)", what, status)
}

// Draws counts finished generations: the status line changes each time.
const drawnJS = `document.getElementById("status").textContent.startsWith("Drawn")`

// imageHash summarises the image canvas; blank is "".
const imageHashJS = `(() => {
  const c = document.getElementById("image");
  if (!c.width) return "";
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let h = 0, lo = 255, hi = 0;
  for (let i = 0; i < d.length; i++) { h = (h * 31 + d[i]) >>> 0; if (i % 4 != 3) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); } }
  return hi > lo ? String(h) : "";
})()`

// waitNewImage waits until the image differs from before (and is not blank).
func waitNewImage(t *testing.T, ctx context.Context, what, before string) string {
	t.Helper()
	waitFor(t, ctx, what, fmt.Sprintf(`%s && (%s) !== "" && (%s) !== %q`, drawnJS, imageHashJS, imageHashJS, before), 60*time.Second)
	return eval[string](t, ctx, imageHashJS)
}

func setInput(t *testing.T, ctx context.Context, selector, value string) {
	t.Helper()
	eval[bool](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, selector, value))
}

func TestApp(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take a minute; skipped with -short")
	}
	ctx := browser(t)
	dir := buildApp(t)
	url, stop := serve(t, dir)
	defer stop()

	t.Log("first visit: a gallery example is drawn without a click")
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "first image", drawnJS, 90*time.Second)
	t.Logf("measured: navigation to first image, cold cache: %.0f ms", eval[float64](t, ctx, "performance.now()"))
	first := eval[string](t, ctx, imageHashJS)
	if first == "" {
		t.Fatal("the first image is blank")
	}
	nObjs := eval[int](t, ctx, `document.querySelectorAll("#objects li").length`)
	nBoxes := eval[int](t, ctx, `document.querySelectorAll("#layout .box").length`)
	if nObjs == 0 || nBoxes != nObjs {
		t.Fatalf("%d objects but %d layout boxes", nObjs, nBoxes)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#graph-svg g.obj").length`); n != nObjs {
		t.Errorf("graph drawing has %d object nodes, want %d", n, nObjs)
	}
	screenshot(t, ctx, "1-first-visit")

	t.Log("usable at 360 px wide: nothing overflows sideways")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	if w := eval[int](t, ctx, "document.documentElement.scrollWidth"); w > 360 {
		t.Errorf("page is %d px wide at a 360 px viewport", w)
	}
	screenshot(t, ctx, "1b-narrow")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1100)); err != nil {
		t.Fatal(err)
	}

	t.Log("editing the graph regenerates and changes the image")
	setInput(t, ctx, "#text-input", "sky above grass; sheep inside grass; tree right of sheep; house left of sheep")
	edited := waitNewImage(t, ctx, "image after edit", first)
	if n := eval[int](t, ctx, `document.querySelectorAll("#objects li").length`); n != 5 {
		t.Errorf("text edit gave %d objects in the list, want 5", n)
	}
	screenshot(t, ctx, "2-edited")

	t.Log("an unknown word shows an inline error and keeps the graph")
	setInput(t, ctx, "#objects li:nth-child(2) input", "grss")
	waitFor(t, ctx, "inline error", `document.getElementById("objects-error").textContent.includes("grss")`, 30*time.Second)
	msg := eval[string](t, ctx, `document.getElementById("objects-error").textContent`)
	if !strings.Contains(msg, `did you mean "grass"`) {
		t.Errorf("error %q does not suggest grass", msg)
	}
	if v := eval[string](t, ctx, `document.querySelector("#objects li:nth-child(2) input").value`); v != "grss" {
		t.Errorf("the user's word was replaced by %q", v)
	}
	if !strings.Contains(eval[string](t, ctx, `localStorage.getItem("sg2im.graph")`), "grss") {
		t.Error("the graph with the typo was not kept in localStorage")
	}
	screenshot(t, ctx, "3-unknown-word")
	setInput(t, ctx, "#objects li:nth-child(2) input", "grass")
	waitFor(t, ctx, "error cleared", `document.getElementById("objects-error").textContent === "" && `+drawnJS, 30*time.Second)

	t.Log("dragging a box changes the image")
	before := eval[string](t, ctx, imageHashJS)
	box := eval[[]float64](t, ctx, `(() => { const r = document.querySelector("#layout .box:nth-of-type(3)").getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2] })()`)
	if err := chromedp.Do(ctx,
		chromedp.MouseEvent("mousePressed", box[0], box[1], chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseMoved", box[0]+30, box[1]+25, chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseMoved", box[0]+60, box[1]+50, chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseReleased", box[0]+60, box[1]+50, chromedp.ButtonLeft)); err != nil {
		t.Fatal(err)
	}
	waitNewImage(t, ctx, "image after drag", before)
	screenshot(t, ctx, "4-dragged")
	_ = edited

	t.Log("loading the tiny_masks reference checkpoint through the file picker")
	pt, _ := filepath.Abs(filepath.Join("..", "testdata", "tiny_masks.legacy.pt"))
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#model-file", []string{pt})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "uploaded model", `document.getElementById("model-status").textContent.startsWith("tiny_masks.legacy.pt")`, 60*time.Second)
	waitFor(t, ctx, "image from the uploaded model", drawnJS, 60*time.Second)
	screenshot(t, ctx, "5-uploaded-model")

	t.Log("after a visit, a reload with the server stopped still generates")
	// ready is a Promise: record when it settles and wait for that, since a
	// Promise itself is truthy and would pass at once.
	do(t, ctx, `navigator.serviceWorker.ready.then(() => { window.swReady = true })`)
	waitFor(t, ctx, "service worker", `window.swReady === true`, 30*time.Second)
	// Reload once so the page is controlled by the worker, then stop the server.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "controlled reload", drawnJS+` && navigator.serviceWorker.controller !== null`, 90*time.Second)
	t.Logf("measured: navigation to first image, warm cache: %.0f ms", eval[float64](t, ctx, "performance.now()"))
	t.Logf("measured: last generation: %s", eval[string](t, ctx, `document.getElementById("status").textContent`))
	stop()
	if _, err := http.Get(url); err == nil {
		t.Fatal("the server still answers")
	}
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "offline image", drawnJS, 90*time.Second)
	if eval[string](t, ctx, imageHashJS) == "" {
		t.Error("the offline image is blank")
	}
	screenshot(t, ctx, "6-offline")
}
