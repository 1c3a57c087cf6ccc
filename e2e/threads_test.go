package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sg2im-go/sg2im/server"
)

// notIsolated serves the app without the headers that make its pages
// cross-origin isolated (COOP and COEP), as a host that does not send them.
type notIsolated struct{ h http.Handler }

func (n notIsolated) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.h.ServeHTTP(&stripIsolation{ResponseWriter: w}, r)
}

type stripIsolation struct {
	http.ResponseWriter
	wrote bool
}

func (s *stripIsolation) WriteHeader(code int) {
	if !s.wrote {
		s.wrote = true
		s.Header().Del("Cross-Origin-Opener-Policy")
		s.Header().Del("Cross-Origin-Embedder-Policy")
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *stripIsolation) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// imagePixelsJS returns the image canvas's RGBA bytes.
const imagePixelsJS = `(() => { const c = document.getElementById("image");
  return Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data) })()`

const statusJS = `document.getElementById("status").textContent`

// TestThreadedEngine checks the engine's two ways of running: the app as
// served (cross-origin isolated) loads app-mt.wasm and draws with helper
// threads, one per core, saying so; the same app from a server that does
// not isolate its pages loads app.wasm and draws on one thread. The two
// images of the same scene and seed are the same pixels.
func TestThreadedEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take a minute; skipped with -short")
	}
	bctx := browser(t)
	dir := buildApp(t)
	srv, hits := serveCounting(t, dir)

	ctx := newTab(t, bctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "first image, isolated", drawnJS, 90*time.Second)
	if !eval[bool](t, ctx, `self.crossOriginIsolated`) {
		t.Fatal("the app's page is not cross-origin isolated: the server's COOP/COEP headers are missing")
	}
	cores := eval[int](t, ctx, `navigator.hardwareConcurrency`)
	status := eval[string](t, ctx, statusJS)
	want := "on one thread"
	if n := min(cores, 8); n > 1 {
		want = fmt.Sprintf("on %d threads", n)
	}
	t.Logf("isolated, %d cores: %q", cores, status)
	if !strings.Contains(status, want) {
		t.Errorf("with %d cores the status says %q, want %q", cores, status, want)
	}
	// kernel-mt.wasm, or kernel-fma-mt.wasm where the browser has relaxed SIMD.
	kernel := "/" + eval[string](t, ctx, `sg2imKernelName(true)`)
	if hits.downloads("/app-mt.wasm") != 1 || hits.downloads(kernel) != 1 {
		t.Errorf("the isolated page fetched app-mt.wasm %d times and %s %d times, want once each",
			hits.downloads("/app-mt.wasm"), kernel, hits.downloads(kernel))
	}
	single := "/" + eval[string](t, ctx, `sg2imKernelName(false)`)
	if n := hits.downloads("/app.wasm") + hits.downloads(single); n != 0 {
		t.Errorf("the isolated page also fetched the single-thread engine (%d files)", n)
	}
	threaded := eval[[]int](t, ctx, imagePixelsJS)
	hash := eval[string](t, ctx, `location.hash`)
	screenshot(t, ctx, "threads-isolated")

	plain, plainHits := serveCounting(t, dir)
	plainHits.h = notIsolated{server.New(os.DirFS(dir), server.Options{})}
	ctx2 := newTab(t, bctx)
	if err := chromedp.Do(ctx2, chromedp.Navigate(plain.URL+"/"+hash)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx2, "first image, not isolated", drawnJS, 90*time.Second)
	if eval[bool](t, ctx2, `self.crossOriginIsolated`) {
		t.Fatal("the page is isolated though its server sent no COOP/COEP")
	}
	status = eval[string](t, ctx2, statusJS)
	t.Logf("not isolated: %q", status)
	if !strings.Contains(status, "on one thread") {
		t.Errorf("not isolated, the status says %q, want it drawn on one thread", status)
	}
	if plainHits.downloads("/app.wasm") != 1 || plainHits.downloads(single) != 1 || plainHits.downloads("/app-mt.wasm") != 0 || plainHits.downloads(kernel) != 0 {
		t.Errorf("the page that is not isolated fetched app.wasm %d times, %s %d, app-mt.wasm %d, %s %d; want 1, 1, 0, 0",
			plainHits.downloads("/app.wasm"), single, plainHits.downloads(single), plainHits.downloads("/app-mt.wasm"), kernel, plainHits.downloads(kernel))
	}
	one := eval[[]int](t, ctx2, imagePixelsJS)
	screenshot(t, ctx2, "threads-not-isolated")
	if len(one) == 0 || len(one) != len(threaded) {
		t.Fatalf("images of %d and %d bytes", len(threaded), len(one))
	}
	differ := 0
	for i := range one {
		if one[i] != threaded[i] {
			differ++
		}
	}
	if differ > 0 {
		t.Errorf("the threaded and the single-thread image differ in %d of %d bytes (scene %s)", differ, len(one), hash)
	}
}
