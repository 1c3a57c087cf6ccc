package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// started is a server run in the background.
type started struct {
	url    string // "http://127.0.0.1:PORT/"
	code   chan int
	stderr *syncBuffer
}

// start runs the command with args and waits for its "serving" line.
func start(t *testing.T, ctx context.Context, args ...string) *started {
	t.Helper()
	pr, pw := io.Pipe()
	s := &started{code: make(chan int, 1), stderr: &syncBuffer{}}
	go func() {
		s.code <- run(ctx, args, pw, s.stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no serving line: %v; stderr:\n%s", err, s.stderr)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "serving sg2im on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, ":0/") {
		t.Fatalf("serving line %q does not name the bound address", line)
	}
	go io.Copy(io.Discard, pr) // nothing more is expected on stdout
	s.url = url
	return s
}

// wait returns the exit code, failing if the server does not stop.
func (s *started) wait(t *testing.T) int {
	t.Helper()
	select {
	case c := <-s.code:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("server did not shut down")
		return -1
	}
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func appDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html>hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestServeDirAndCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := start(t, ctx, "--addr", "127.0.0.1:0", "--dir", appDir(t))
	if code, body := getBody(t, s.url); code != http.StatusOK || body != "<!doctype html>hi" {
		t.Errorf("GET /: %d %q", code, body)
	}
	cancel()
	if code := s.wait(t); code != exitOK {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), `GET "/" 200 17 - `) {
		t.Errorf("no request log line in stderr:\n%s", s.stderr)
	}
}

// TestEmbedded accepts 503 as well as 200: a clean clone embeds no app.
func TestEmbedded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := start(t, ctx, "--addr", "127.0.0.1:0")
	code, body := getBody(t, s.url)
	if code != http.StatusOK && !(code == http.StatusServiceUnavailable && strings.Contains(body, "make app")) {
		t.Errorf("GET /: %d %q, want 200 or the not-built 503", code, body)
	}
	cancel()
	s.wait(t)
}

func TestBadArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--help"}, exitOK},
		{[]string{"--nope"}, exitUsage},
		{[]string{"extra"}, exitUsage},
		{[]string{"--dir", filepath.Join(t.TempDir(), "missing")}, exitUsage},
		{[]string{"--addr", "127.0.0.1:99999"}, exitFailure},
	} {
		var stdout, stderr bytes.Buffer
		if got := run(context.Background(), tc.args, &stdout, &stderr); got != tc.want {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", tc.args, got, tc.want, &stderr)
		}
		if tc.want != exitOK && stderr.Len() == 0 {
			t.Errorf("%q: nothing on stderr", tc.args)
		}
	}
}

// TestDirStaysInside serves a directory holding dotfiles and symbolic links
// that lead out of it: none of them is served, the app still is.
func TestDirStaysInside(t *testing.T) {
	const secret = "TOP SECRET"
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := appDir(t)
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{".env": secret, ".git/config": secret, "sub/.hidden": secret, "sub/ok.txt": "ok"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"abs.txt": filepath.Join(outside, "secret.txt"),
		"rel.txt": filepath.Join("..", filepath.Base(outside), "secret.txt"),
		"outdir":  outside,
		"up":      "..",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	// The relative link must really lead out: both temp dirs share a parent.
	if b, err := os.ReadFile(filepath.Join(dir, "rel.txt")); err != nil || string(b) != secret {
		t.Skipf("test setup: relative link does not reach the secret: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := start(t, ctx, "--addr", "127.0.0.1:0", "--dir", dir)
	for _, p := range []string{"/.env", "/.git/config", "/sub/.hidden", "/abs.txt", "/rel.txt", "/outdir/secret.txt",
		"/up/" + filepath.Base(outside) + "/secret.txt", "/.git/", "/%2eenv"} {
		code, body := getBody(t, strings.TrimSuffix(s.url, "/")+p)
		if code != http.StatusNotFound && code != http.StatusBadRequest {
			t.Errorf("GET %s: status %d, want 404", p, code)
		}
		if strings.Contains(body, secret) {
			t.Errorf("GET %s: served the secret", p)
		}
	}
	for p, want := range map[string]string{"/": "<!doctype html>hi", "/sub/ok.txt": "ok"} {
		if code, body := getBody(t, strings.TrimSuffix(s.url, "/")+p); code != http.StatusOK || body != want {
			t.Errorf("GET %s: %d %q", p, code, body)
		}
	}
	cancel()
	s.wait(t)
}
