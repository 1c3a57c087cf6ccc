package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWorkerSkipsStale posts replaceable requests to an engine worker in
// one go: the engine answers the newest with images and skips the others.
func TestWorkerSkipsStale(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take minutes; skipped with -short")
	}
	ctx := browser(t)
	dir := buildApp(t)
	url, stop := serve(t, dir)
	defer stop()
	// Any page of the origin will do; the test starts its own engine.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"embed.css")); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, `window.kinds = []; const w = new Worker("worker.js"); window.w = w;
	  const req = (id, body) => w.postMessage({json: JSON.stringify({v: 1, id, ...body})});
	  w.onmessage = (e) => { const r = JSON.parse(e.data.json);
	    if (r.kind === "ready") req(1, {kind: "load", load: {url: "model.safetensors", name: "m"}});
	    else if (r.kind === "loaded") { for (let i = 2; i <= 6; i++) req(i, {kind: "generate", generate: {graph: {objects: ["sky", "grass"], relationships: []}, seed: i, count: 4, replaceable: true}}) }
	    else if (r.kind !== "progress") window.kinds.push(r.id + ":" + r.kind) }`)
	waitFor(t, ctx, "five answers", `window.kinds.length === 5`, 90*time.Second)
	got := strings.Join(eval[[]string](t, ctx, "window.kinds"), " ")
	if got != "2:cancelled 3:cancelled 4:cancelled 5:cancelled 6:images" {
		t.Errorf("answers %q: want the first four skipped, the newest drawn", got)
	}
}
