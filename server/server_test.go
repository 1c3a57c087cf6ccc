package server

import (
	"bufio"
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// testFS is a small built app: app.wasm and app.js have both variants,
// style.css only gzip, and the variant bodies are distinct placeholders
// (the server never decodes them).
func testFS() fstest.MapFS {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	return fstest.MapFS{
		"index.html":           file("<!doctype html><title>sg2im</title>"),
		"app.wasm":             file("\x00asm wasm identity body"),
		"app.wasm.br":          file("wasm br body"),
		"app.wasm.gz":          file("wasm gz body"),
		"app.js":               file("console.log('app')"),
		"app.js.br":            file("js br"),
		"app.js.gz":            file("js gz"),
		"style.css":            file("body{}"),
		"style.css.gz":         file("css gz"),
		"sg2im-widget.js":      file("widget()"),
		"sw.js":                file("self.onfetch=null"),
		"manifest.webmanifest": file("{}"),
		"model.safetensors":    file("\x08\x00\x00\x00\x00\x00\x00\x00{}      "),
		"data.json":            file("{}"),
		"mod.mjs":              file("export {}"),
		"icon.svg":             file("<svg/>"),
		"icon.png":             file("\x89PNG"),
		"favicon.ico":          file("\x00\x00\x01\x00"),
		"notes.txt":            file("notes"),
		"blob.xyz":             file("<html>not sniffed</html>"),
		"archive.gz":           file("a gzip file with no base"),
		"sub/page.html":        file("<p>sub</p>"),
	}
}

// get serves one request and returns the recorded response.
func get(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestContentTypes(t *testing.T) {
	h := New(testFS(), Options{})
	for _, tc := range []struct{ path, want string }{
		{"/", "text/html; charset=utf-8"},
		{"/index.html", "text/html; charset=utf-8"},
		{"/sub/page.html", "text/html; charset=utf-8"},
		{"/app.js", "text/javascript; charset=utf-8"},
		{"/mod.mjs", "text/javascript; charset=utf-8"},
		{"/style.css", "text/css; charset=utf-8"},
		{"/app.wasm", "application/wasm"},
		{"/data.json", "application/json"},
		{"/manifest.webmanifest", "application/manifest+json"},
		{"/icon.svg", "image/svg+xml"},
		{"/icon.png", "image/png"},
		{"/favicon.ico", "image/x-icon"},
		{"/model.safetensors", "application/octet-stream"},
		{"/notes.txt", "text/plain; charset=utf-8"},
		{"/blob.xyz", "application/octet-stream"},
	} {
		w := get(t, h, "GET", tc.path)
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d, want 200", tc.path, w.Code)
		}
		if got := w.Header().Get("Content-Type"); got != tc.want {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	h := New(testFS(), Options{})
	for _, tc := range []struct {
		path, accept string
		wantEnc      string // Content-Encoding
		wantBody     string
	}{
		{"/app.wasm", "", "", "\x00asm wasm identity body"},
		{"/app.wasm", "gzip, deflate, br, zstd", "br", "wasm br body"},
		{"/app.wasm", "gzip, deflate", "gzip", "wasm gz body"},
		{"/app.wasm", "x-gzip", "gzip", "wasm gz body"},
		{"/app.wasm", "BR;Q=0.5", "br", "wasm br body"},
		{"/app.wasm", "br;q=0.5, gzip", "gzip", "wasm gz body"},
		{"/app.wasm", "br;q=0, gzip;q=0.1", "gzip", "wasm gz body"},
		{"/app.wasm", "br;q=0, gzip;q=0", "", "\x00asm wasm identity body"},
		{"/app.wasm", "*", "br", "wasm br body"},
		{"/app.wasm", "*;q=0, gzip", "gzip", "wasm gz body"},
		{"/app.wasm", "br;q=0.5, identity", "", "\x00asm wasm identity body"},
		{"/app.wasm", "br;q=bogus, gzip;q=2", "", "\x00asm wasm identity body"},
		{"/app.wasm", "identity", "", "\x00asm wasm identity body"},
		{"/app.wasm", "deflate, zstd", "", "\x00asm wasm identity body"},
		{"/app.js", "br, gzip", "br", "js br"},
		{"/style.css", "br, gzip", "gzip", "css gz"},                           // no .br variant
		{"/style.css", "br", "", "body{}"},                                     // none acceptable
		{"/index.html", "br, gzip", "", "<!doctype html><title>sg2im</title>"}, // no variants
	} {
		w := get(t, h, "GET", tc.path, "Accept-Encoding", tc.accept)
		if got := w.Header().Get("Content-Encoding"); got != tc.wantEnc {
			t.Errorf("%s %q: Content-Encoding %q, want %q", tc.path, tc.accept, got, tc.wantEnc)
		}
		if got := w.Body.String(); got != tc.wantBody {
			t.Errorf("%s %q: body %q, want %q", tc.path, tc.accept, got, tc.wantBody)
		}
		wantVary := ""
		if tc.path != "/index.html" {
			wantVary = "Accept-Encoding"
		}
		if got := w.Header().Get("Vary"); got != wantVary {
			t.Errorf("%s %q: Vary %q, want %q", tc.path, tc.accept, got, wantVary)
		}
	}
}

func TestVariantFilesNotResources(t *testing.T) {
	h := New(testFS(), Options{})
	for _, p := range []string{"/app.wasm.br", "/app.wasm.gz", "/style.css.gz"} {
		if w := get(t, h, "GET", p); w.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, w.Code)
		}
	}
	// A .gz with no base file is an ordinary file.
	w := get(t, h, "GET", "/archive.gz", "Accept-Encoding", "gzip")
	if w.Code != http.StatusOK || w.Header().Get("Content-Encoding") != "" {
		t.Errorf("/archive.gz: status %d, Content-Encoding %q; want 200 and none",
			w.Code, w.Header().Get("Content-Encoding"))
	}
}

func TestETag(t *testing.T) {
	h := New(testFS(), Options{})
	tags := map[string]string{}
	for _, enc := range []string{"br", "gzip", "identity"} {
		w := get(t, h, "GET", "/app.wasm", "Accept-Encoding", enc)
		tag := w.Header().Get("ETag")
		if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' || strings.HasPrefix(tag, "W/") {
			t.Fatalf("%s: ETag %q is not a strong quoted tag", enc, tag)
		}
		for other, ot := range tags {
			if ot == tag {
				t.Errorf("%s and %s variants share ETag %s", enc, other, tag)
			}
		}
		tags[enc] = tag
		if again := get(t, h, "GET", "/app.wasm", "Accept-Encoding", enc).Header().Get("ETag"); again != tag {
			t.Errorf("%s: ETag changed from %s to %s", enc, tag, again)
		}

		for _, method := range []string{"GET", "HEAD"} {
			w = get(t, h, method, "/app.wasm", "Accept-Encoding", enc, "If-None-Match", `"other", `+tag)
			if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
				t.Errorf("%s %s If-None-Match: status %d, %d body bytes; want 304, none",
					method, enc, w.Code, w.Body.Len())
			}
			if w.Header().Get("ETag") != tag || w.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("%s %s 304 lost ETag or Vary: %v", method, enc, w.Header())
			}
		}
	}
	// The br tag does not match the gzip variant.
	w := get(t, h, "GET", "/app.wasm", "Accept-Encoding", "gzip", "If-None-Match", tags["br"])
	if w.Code != http.StatusOK || w.Body.String() != "wasm gz body" {
		t.Errorf("gzip with br tag: status %d body %q, want 200 and the gz body", w.Code, w.Body)
	}
}

func TestETagFollowsRewrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "index.html")
	if err := os.WriteFile(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := New(os.DirFS(dir), Options{})
	first := get(t, h, "GET", "/").Header().Get("ETag")
	if err := os.WriteFile(p, []byte("two!"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := get(t, h, "GET", "/")
	if w.Body.String() != "two!" || w.Header().Get("ETag") == first {
		t.Errorf("after rewrite: body %q ETag %s (was %s)", w.Body, w.Header().Get("ETag"), first)
	}
}

func TestHeadAndRange(t *testing.T) {
	h := New(testFS(), Options{})
	w := get(t, h, "HEAD", "/app.wasm", "Accept-Encoding", "br")
	if w.Code != http.StatusOK || w.Body.Len() != 0 ||
		w.Header().Get("Content-Length") != "12" || w.Header().Get("Content-Encoding") != "br" {
		t.Errorf("HEAD: status %d, %d body bytes, headers %v; want 200, none, length 12, br",
			w.Code, w.Body.Len(), w.Header())
	}
	w = get(t, h, "GET", "/app.wasm", "Range", "bytes=1-3")
	if w.Code != http.StatusPartialContent || w.Body.String() != "asm" {
		t.Errorf("Range: status %d body %q, want 206 %q", w.Code, w.Body, "asm")
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := New(testFS(), Options{})
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"} {
		w := get(t, h, m, "/")
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d Allow %q, want 405 %q", m, w.Code, w.Header().Get("Allow"), "GET, HEAD")
		}
	}
}

func TestNotFound(t *testing.T) {
	h := New(testFS(), Options{})
	for _, p := range []string{"/nope", "/nope.js", "/sub", "/sub/", "/sub/nope.html", "/index.html/x"} {
		if w := get(t, h, "GET", p); w.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, w.Code)
		}
	}
}

// TestTraversal serves dir/public from disk with a secret beside it and
// sends each nasty path over a real connection, unmodified by any client.
func TestTraversal(t *testing.T) {
	dir := t.TempDir()
	const secret = "TOP SECRET"
	if err := os.Mkdir(filepath.Join(dir, "public"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"secret.txt":        secret,
		"public/index.html": "index",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(New(os.DirFS(filepath.Join(dir, "public")), Options{}))
	defer srv.Close()

	for _, p := range []string{
		"/../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/.%2e/secret.txt",
		"/..%2fsecret.txt",
		"/..%2Fsecret.txt",
		"/x/../../secret.txt",
		"/x/%2e%2e/%2e%2e/secret.txt",
		`/..\secret.txt`,
		"/..%5csecret.txt",
		"/%2e%2e%5csecret.txt",
		"/index.html%00",
		"/%00../secret.txt",
		"//secret.txt",
		"//../secret.txt",
		"/./index.html",
		"/.",
		"/..",
		"/x/..",
		"/%2e",
		"/%2e%2e",
		"/%252e%252e/secret.txt",
		"/" + filepath.Join(dir, "secret.txt"),
	} {
		status, body := rawGet(t, srv.Listener.Addr().String(), p)
		if status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 400 or 404", p, status)
		}
		if strings.Contains(body, secret) {
			t.Errorf("%s: served the secret", p)
		}
	}
}

// rawGet sends target as the request line verbatim and returns the status
// and body.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	c, err := (&net.Dialer{}).Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestNotBuilt(t *testing.T) {
	h := New(fstest.MapFS{"README.md": {Data: []byte("built by make app")}}, Options{})
	for _, p := range []string{"/", "/index.html"} {
		w := get(t, h, "GET", p)
		if w.Code != http.StatusServiceUnavailable || w.Body.String() != notBuilt ||
			w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: status %d body %q type %q; want 503 %q text/plain",
				p, w.Code, w.Body, w.Header().Get("Content-Type"), notBuilt)
		}
	}
	if w := get(t, h, "GET", "/app.wasm"); w.Code != http.StatusNotFound {
		t.Errorf("/app.wasm unbuilt: status %d, want 404", w.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := New(testFS(), Options{})
	always := map[string]string{
		"Content-Security-Policy":      ContentSecurityPolicy,
		"X-Content-Type-Options":       "nosniff",
		"Referrer-Policy":              "no-referrer",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Embedder-Policy": "require-corp",
		"Cache-Control":                "no-cache",
	}
	shared := map[string]string{
		"Cross-Origin-Resource-Policy": "cross-origin",
		"Access-Control-Allow-Origin":  "*",
	}
	for _, tc := range []struct {
		path   string
		shared bool
	}{
		{"/", false},
		{"/sub/page.html", false},
		{"/sg2im-widget.js", true},
		{"/app.wasm", true},
		{"/model.safetensors", true},
		{"/sw.js", true},
		{"/nope", false},
	} {
		w := get(t, h, "GET", tc.path)
		for k, v := range always {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s: %s %q, want %q", tc.path, k, got, v)
			}
		}
		for k, v := range shared {
			want := ""
			if tc.shared {
				want = v
			}
			if got := w.Header().Get(k); got != want {
				t.Errorf("%s: %s %q, want %q", tc.path, k, got, want)
			}
		}
	}
	for _, d := range []string{"'wasm-unsafe-eval'", "worker-src 'self' blob:", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, d) {
			t.Errorf("ContentSecurityPolicy lacks %s", d)
		}
	}
}

func TestLog(t *testing.T) {
	var buf bytes.Buffer
	h := New(testFS(), Options{Logger: log.New(&buf, "", 0)})
	get(t, h, "GET", "/app.wasm", "Accept-Encoding", "br")
	get(t, h, "HEAD", "/nope%0AGET%20/%20200")
	get(t, h, "POST", "/")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		`GET "/app.wasm" 200 12 br `,
		`HEAD "/nope\nGET / 200" 404 0 - `,
		`POST "/" 405 19 - `,
	}
	if len(lines) != len(want) {
		t.Fatalf("log has %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("log line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

func TestNoDotfiles(t *testing.T) {
	fsys := testFS()
	for _, name := range []string{".env", ".git/config", "sub/.hidden"} {
		fsys[name] = &fstest.MapFile{Data: []byte("SECRET")}
	}
	h := New(fsys, Options{})
	for _, p := range []string{"/.env", "/.git/config", "/sub/.hidden", "/.git/"} {
		if w := get(t, h, "GET", p); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "SECRET") {
			t.Errorf("%s: status %d, want 404", p, w.Code)
		}
	}
}
