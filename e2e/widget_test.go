package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/sg2im-go/sg2im/protocol"
	"github.com/sg2im-go/sg2im/server"
)

// counter serves the app and counts requests and response-body bytes per
// path, to check that widgets share one download of the model.
type counter struct {
	h     http.Handler
	mu    sync.Mutex
	paths map[string]*served
}

// served sums the responses for one path; downloads counts those that
// sent the body (a revalidation answered 304 is not a download); enc is the
// last Content-Encoding.
type served struct {
	hits, downloads int
	bytes           int64
	enc             string
}

type countingWriter struct {
	http.ResponseWriter
	n      int64
	status int
}

func (w *countingWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
	c.h.ServeHTTP(cw, r)
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.paths[r.URL.Path]
	if s == nil {
		s = &served{}
		c.paths[r.URL.Path] = s
	}
	s.hits++
	if cw.status == http.StatusOK {
		s.downloads++
	}
	s.bytes += cw.n
	s.enc = w.Header().Get("Content-Encoding")
}

func (c *counter) downloads(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.paths[path]; s != nil {
		return s.downloads
	}
	return 0
}

// report lists what was served, biggest first, and the total bytes.
func (c *counter) report() (string, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var total int64
	var lines []string
	for p, s := range c.paths {
		total += s.bytes
		lines = append(lines, fmt.Sprintf("%s %d bytes %s", p, s.bytes, s.enc))
	}
	slices.Sort(lines)
	return strings.Join(lines, "; "), total
}

func serveCounting(t *testing.T, dir string) (*httptest.Server, *counter) {
	t.Helper()
	c := &counter{h: server.New(os.DirFS(dir), server.Options{}), paths: map[string]*served{}}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return srv, c
}

// newTab opens a tab that notes, in window.firstDraw, when the page's first
// widget image was drawn (ms since navigation).
func newTab(t *testing.T, browserCtx context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `document.addEventListener("sg2im-draw", () => { window.firstDraw ??= performance.now() })`})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// scene is a JavaScript expression for the widget with the given id.
func scene(id string) string { return fmt.Sprintf("document.getElementById(%q)", id) }

// sceneHashJS summarises the image of the widget %s (a Sprintf format);
// blank is "".
const sceneHashJS = `((el) => {
  const c = el.shadowRoot.querySelector("canvas.image");
  if (!c.width) return "";
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let h = 0, lo = 255, hi = 0;
  for (let i = 0; i < d.length; i++) { h = (h * 31 + d[i]) >>> 0; if (i %% 4 != 3) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); } }
  return hi > lo ? String(h) : "";
})(%s)`

func sceneHash(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(sceneHashJS, scene(id)))
}

func sceneStatus(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return eval[string](t, ctx, scene(id)+`.shadowRoot.querySelector(".status").textContent`)
}

// waitScenes polls cond; on timeout it reports every widget's state.
func waitScenes(t *testing.T, ctx context.Context, what, cond string, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")")); err == nil && ok {
			return
		}
	}
	states, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("sg2im-scene")].map((e) =>
	  (e.id || "?") + ": " + e.state + " (" + e.shadowRoot.querySelector(".status").textContent + ")").join("\n")`))
	screenshot(t, ctx, "widget-timeout-"+strings.ReplaceAll(what, " ", "-"))
	t.Fatalf("timed out waiting for %s; widgets:\n%s", what, states)
}

func drawn(id string) string { return scene(id) + `.state === "drawn"` }

// scenePixels returns a widget's image as RGBA bytes.
func scenePixels(t *testing.T, ctx context.Context, id string) []byte {
	t.Helper()
	v := eval[[]int](t, ctx, fmt.Sprintf(`((el) => { const c = el.shadowRoot.querySelector("canvas.image");
	  return Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data) })(%s)`, scene(id)))
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// cliImage runs `sg2im generate --seed` with a model file on a graph file
// and returns the first image as RGBA bytes.
func cliImage(t *testing.T, modelFile, graphs string, seed int) []byte {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "sg2im")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sg2im").CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "generate", "--model", modelFile,
		"--graphs", graphs, "--out", dir, "--seed", fmt.Sprint(seed))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sg2im generate: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "img000000.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	return rgba.Pix
}

func samePixels(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d bytes, the CLI's image has %d", what, len(got), len(want))
	}
	diff, maxDiff := 0, 0
	for i := range got {
		if d := max(int(got[i])-int(want[i]), int(want[i])-int(got[i])); d > 0 {
			diff++
			maxDiff = max(maxDiff, d)
		}
	}
	// WebAssembly runs the portable kernels, natively AVX2 and Winograd
	// ones: the sums round differently, so a few channel values near a
	// rounding edge may land one level apart.
	if maxDiff > pixelTol || diff*100 > len(got) {
		t.Errorf("%s: %d of %d bytes differ from `sg2im generate` (max difference %d; tolerance %d levels on under 1%%)", what, diff, len(got), maxDiff, pixelTol)
	} else if diff > 0 {
		t.Logf("%s: %d of %d bytes differ from `sg2im generate` by at most %d", what, diff, len(got), maxDiff)
	}
}

// pixelTol is the largest difference, in 8-bit levels, allowed between the
// browser's image and the CLI's for the same graph, seed and model.
const pixelTol = 2

// buildWidget builds the app exactly as `make app` does, precompressed
// variants included, so that byte counts are what readers get.
func buildWidget(t *testing.T) string {
	t.Helper()
	dir := buildApp(t)
	if out, err := exec.Command("go", "run", "../tools/precompress", dir).CombinedOutput(); err != nil {
		t.Fatalf("precompressing: %v\n%s", err, out)
	}
	return dir
}

// TestWidgetProtocolVersion keeps the widget's copy of the version in step.
func TestWidgetProtocolVersion(t *testing.T) {
	src, err := os.ReadFile("../web/sg2im-widget.js")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("const VERSION = %d; // protocol.Version", protocol.Version)
	if !bytes.Contains(src, []byte(want)) {
		t.Errorf("sg2im-widget.js lacks %q: update it with the protocol", want)
	}
}

// TestWidget drives the <sg2im-scene> demo page, then embeds one widget in
// a page of another site.
func TestWidget(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take a minute; skipped with -short")
	}
	bctx := browser(t)
	dir := buildWidget(t)
	srv, hits := serveCounting(t, dir)
	ctx := newTab(t, bctx)

	t.Log("the demo page loads and draws the widgets in view")
	// Tall enough for three widgets; the fourth stays below.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1400)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/embed.html")); err != nil {
		t.Fatal(err)
	}
	waitScenes(t, ctx, "widgets defined", `customElements.get("sg2im-scene")`, 30*time.Second)
	inView := eval[[]string](t, ctx, `[...document.querySelectorAll("sg2im-scene")].filter((e) => e.getBoundingClientRect().top < innerHeight).map((e) => e.id)`)
	if strings.Join(inView, " ") != "first editable full" {
		t.Fatalf("widgets in the first screen: %v, want first, editable and full (did the demo page change?)", inView)
	}
	waitScenes(t, ctx, "visible widgets drawn", drawn("first")+" && "+drawn("editable")+" && "+drawn("full"), 90*time.Second)
	t.Logf("measured: navigation to first widget image, cold: %.0f ms; all three in view: %.0f ms",
		eval[float64](t, ctx, "window.firstDraw"), eval[float64](t, ctx, "performance.now()"))
	seen := map[string]string{}
	for _, id := range inView {
		h := sceneHash(t, ctx, id)
		if h == "" {
			t.Errorf("widget %s drew a blank image", id)
		}
		if other, ok := seen[h]; ok {
			t.Errorf("widgets %s and %s drew the same image", other, id)
		}
		seen[h] = id
	}
	for id, want := range map[string]int{"first": 1, "editable": 1, "full": 3} {
		if n := eval[int](t, ctx, `[...`+scene(id)+`.shadowRoot.querySelectorAll(".view")].filter((v) => v.checkVisibility()).length`); n != want {
			t.Errorf("widget %s shows %d views, want %d", id, n, want)
		}
	}
	if n := eval[int](t, ctx, scene("full")+`.shadowRoot.querySelectorAll(".layout .box").length`); n != 4 {
		t.Errorf("layout view has %d boxes, want 4", n)
	}
	if n := eval[int](t, ctx, scene("full")+`.shadowRoot.querySelectorAll("svg g.obj").length`); n != 4 {
		t.Errorf("graph view has %d object nodes, want 4", n)
	}
	if n := eval[int](t, ctx, scene("full")+`.shadowRoot.querySelectorAll("svg g.pred").length`); n != 3 {
		t.Errorf("graph view has %d predicate nodes, want 3", n)
	}
	screenshot(t, ctx, "widget-1-demo")

	t.Log("the off-screen widget waits until scrolled into view")
	if s := eval[string](t, ctx, scene("later")+".state"); s != "idle" || sceneHash(t, ctx, "later") != "" {
		t.Fatalf("the off-screen widget is %q before being seen", s)
	}
	do(t, ctx, scene("later")+`.scrollIntoView()`)
	waitScenes(t, ctx, "off-screen widget drawn", drawn("later"), 30*time.Second)
	if sceneHash(t, ctx, "later") == "" {
		t.Error("the off-screen widget drew a blank image")
	}
	screenshot(t, ctx, "widget-2-scrolled")
	// The demo page is cross-origin isolated: its engine is app-mt.wasm.
	for _, f := range []string{"/model.safetensors", "/app-mt.wasm", "/wasm_exec.js"} {
		// The service worker's precache revalidates (304) what the
		// widgets fetched; only one response carries the body.
		if n := hits.downloads(f); n != 1 {
			t.Errorf("%s was downloaded %d times for four widgets, want once", f, n)
		}
	}

	t.Log("changing the seed attribute regenerates")
	do(t, ctx, `window.scrollTo(0, 0)`)
	before := sceneHash(t, ctx, "first")
	do(t, ctx, scene("first")+`.setAttribute("seed", "5")`)
	waitScenes(t, ctx, "new seed drawn", fmt.Sprintf(`%s && (%s) !== %q`, drawn("first"), fmt.Sprintf(sceneHashJS, scene("first")), before), 30*time.Second)

	t.Log("changing the element's text regenerates")
	before = sceneHash(t, ctx, "first")
	do(t, ctx, scene("first")+`.textContent = "car inside road; sky above road"`)
	waitScenes(t, ctx, "new text drawn", fmt.Sprintf(`%s && (%s) !== %q`, drawn("first"), fmt.Sprintf(sceneHashJS, scene("first")), before), 30*time.Second)
	if msg := sceneStatus(t, ctx, "first"); !strings.HasPrefix(msg, "car inside road; sky above road · seed 5") {
		t.Errorf("after a text change the widget says %q", msg)
	}

	t.Log("the editable widget shows an unknown word inline and keeps the text")
	const typo = "sheep inside grss; sky above grass"
	setEditor := func(text string) {
		eval[bool](t, ctx, fmt.Sprintf(`((el) => { const i = el.shadowRoot.querySelector("input"); i.value = %q;
		  i.dispatchEvent(new Event("input")); return true })(%s)`, text, scene("editable")))
	}
	editedFrom := sceneHash(t, ctx, "editable")
	setEditor(typo)
	waitScenes(t, ctx, "inline error", scene("editable")+`.state === "error"`, 30*time.Second)
	if msg := sceneStatus(t, ctx, "editable"); !strings.Contains(msg, `"grss"`) || !strings.Contains(msg, `did you mean "grass"`) {
		t.Errorf("error %q does not name grss and suggest grass", msg)
	}
	if v := eval[string](t, ctx, scene("editable")+`.shadowRoot.querySelector("input").value`); v != typo {
		t.Errorf("the editor holds %q, want the user's %q", v, typo)
	}
	if s := eval[string](t, ctx, scene("first")+".state"); s != "drawn" {
		t.Errorf("another widget is %q after the error", s)
	}
	screenshot(t, ctx, "widget-3-unknown-word")
	setEditor("sheep inside grass; car below sky")
	waitScenes(t, ctx, "fixed text drawn", fmt.Sprintf(`%s && (%s) !== %q`, drawn("editable"), fmt.Sprintf(sceneHashJS, scene("editable")), editedFrom), 30*time.Second)

	t.Log("a bad graph attribute shows an error in that widget only")
	do(t, ctx, scene("full")+`.setAttribute("graph", "{not json")`)
	waitScenes(t, ctx, "bad graph error", scene("full")+`.state === "error"`, 10*time.Second)
	if msg := sceneStatus(t, ctx, "full"); !strings.Contains(msg, "not JSON") {
		t.Errorf("bad graph: error %q", msg)
	}
	if s := eval[string](t, ctx, scene("editable")+".state"); s != "drawn" {
		t.Errorf("the editable widget is %q after another's error", s)
	}
	t.Log("a graph attribute of the wrong shape is told in a graph's words")
	do(t, ctx, scene("full")+`.setAttribute("graph", '{"objects": ["sky", 3]}')`)
	waitScenes(t, ctx, "wrong-shape graph error", scene("full")+`.state === "error" && `+scene("full")+`.shadowRoot.querySelector(".status").textContent.includes("quotes")`, 30*time.Second)
	if msg := sceneStatus(t, ctx, "full"); !strings.Contains(msg, `each object must be a word in quotes, like "sheep"; found a number`) ||
		strings.Contains(msg, "Go ") || strings.Contains(msg, "unmarshal") {
		t.Errorf("wrong-shape graph: error %q, want words about objects and no Go internals", msg)
	}

	t.Log("the page's styles do not reach into the widget")
	eval[bool](t, ctx, `(() => { const s = new CSSStyleSheet();
	  s.replaceSync("img, canvas, svg { display: none !important } * { color: red !important; font-size: 40px !important }");
	  document.adoptedStyleSheets = [...document.adoptedStyleSheets, s]; return true })()`)
	got := eval[[]string](t, ctx, scene("first")+`.shadowRoot.querySelector("canvas.image") && (() => {
	  const r = `+scene("first")+`.shadowRoot, c = r.querySelector("canvas.image"), s = r.querySelector(".status");
	  return [getComputedStyle(c).display, String(c.getBoundingClientRect().width), getComputedStyle(s).color, getComputedStyle(s).fontSize] })()`)
	if want := []string{"block", "256", "rgb(91, 101, 117)", "12px"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("under hostile page styles the widget's canvas display, width, status colour and size are %q, want %q", got, want)
	}
	screenshot(t, ctx, "widget-4-hostile-page-styles")
	do(t, ctx, `document.adoptedStyleSheets = []`)

	t.Log("the widget's image equals `sg2im generate --seed` for the same graph")
	graph, err := os.ReadFile("../testdata/graphs/sheep.json")
	if err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, fmt.Sprintf(`(() => {
	  const add = (id, attrs, text) => { const e = document.createElement("sg2im-scene"); e.id = id;
	    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); e.textContent = text; document.querySelector("main").append(e); return e };
	  add("json", {seed: "3", graph: %q}, "");
	  add("text", {seed: "3"}, "sky above grass; sheep inside grass");
	  add("nomodel", {model: "no-such-model.safetensors"}, "sheep").scrollIntoView();
	  return true })()`, graph))
	waitScenes(t, ctx, "added widgets", drawn("json")+" && "+drawn("text")+` && `+scene("nomodel")+`.state === "error"`, 60*time.Second)
	// The file the widget loaded: the shipped model as the app ships it
	// (float16, generator only).
	want := cliImage(t, filepath.Join(dir, "model.safetensors"), "../testdata/graphs/sheep.json", 3)
	samePixels(t, "graph attribute, seed 3", scenePixels(t, ctx, "json"), want)
	samePixels(t, "one-line text, seed 3", scenePixels(t, ctx, "text"), want)
	if msg := sceneStatus(t, ctx, "nomodel"); !strings.Contains(msg, "could not be loaded") || !strings.Contains(msg, "404") {
		t.Errorf("missing model: error %q", msg)
	}
	screenshot(t, ctx, "widget-5-added")

	t.Log("a page on another site embeds the widget")
	crossOrigin(t, bctx, dir, want)
}

// crossOrigin serves a docs page, with a strict CSP as the README
// recommends, from one site and the widget from another.
func crossOrigin(t *testing.T, bctx context.Context, dir string, want []byte) {
	widgets, hits := serveCounting(t, dir)
	page := fmt.Sprintf(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Docs elsewhere</title>
<script type="module" src="%s/sg2im-widget.js"></script></head>
<body><h1>A course on scene graphs</h1><p>A sheep in a field:</p>
<sg2im-scene id="x" seed="3" show="image layout graph">sky above grass; sheep inside grass</sg2im-scene></body></html>`, widgets.URL)
	csp := fmt.Sprintf("default-src 'none'; script-src %[1]s 'wasm-unsafe-eval'; worker-src blob:; connect-src %[1]s", widgets.URL)
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	t.Cleanup(docs.Close)
	// localhost and 127.0.0.1 are different sites as well as origins.
	docsURL := strings.Replace(docs.URL, "127.0.0.1", "localhost", 1) + "/"
	ctx := newTab(t, bctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(docsURL)); err != nil {
		t.Fatal(err)
	}
	waitScenes(t, ctx, "cross-origin widget", `customElements.get("sg2im-scene") && `+drawn("x"), 90*time.Second)
	ms := eval[float64](t, ctx, "window.firstDraw")
	if n := hits.downloads("/model.safetensors"); n != 1 {
		t.Errorf("the model was requested %d times", n)
	}
	samePixels(t, "cross-origin widget, seed 3", scenePixels(t, ctx, "x"), want)
	// The docs page is not cross-origin isolated: the engine falls back to
	// one thread, app.wasm, without fetching the threaded variant.
	if eval[bool](t, ctx, `self.crossOriginIsolated`) {
		t.Error("the docs page on another site is cross-origin isolated")
	}
	if hits.downloads("/app.wasm") != 1 || hits.downloads("/app-mt.wasm") != 0 {
		t.Errorf("the widget on another site fetched app.wasm %d times and app-mt.wasm %d times, want 1 and 0",
			hits.downloads("/app.wasm"), hits.downloads("/app-mt.wasm"))
	}
	files, total := hits.report()
	t.Logf("measured: one widget on another site, cold: first image %.0f ms after navigation; %d bytes of response bodies (page %d; %s)",
		ms, int64(len(page))+total, len(page), files)
	screenshot(t, ctx, "widget-6-cross-origin")
}

// TestWidgetOffline checks that a docs page on the app's origin draws its
// widgets after one visit with the server stopped.
func TestWidgetOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take a minute; skipped with -short")
	}
	ctx := browser(t)
	url, stop := serve(t, buildApp(t))
	defer stop()
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"embed.html")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "first widget", drawn("first"), 90*time.Second)
	// The widget registers the service worker after its first image; a
	// visit ends when it is installed.
	do(t, ctx, `navigator.serviceWorker.ready.then(() => { window.swReady = true })`)
	waitFor(t, ctx, "service worker", `window.swReady === true`, 30*time.Second)
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "controlled reload", drawn("first")+` && navigator.serviceWorker.controller !== null`, 90*time.Second)
	stop()
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "offline widget", drawn("first"), 90*time.Second)
	screenshot(t, ctx, "widget-offline")
}
