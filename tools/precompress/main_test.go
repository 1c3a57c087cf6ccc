package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// writeTree creates files under a new temporary directory.
func writeTree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func testTree() map[string][]byte {
	text := func(s string, n int) []byte { return []byte(strings.Repeat(s, n)) }
	noise := make([]byte, 4096) // incompressible: variants would grow
	rand.NewChaCha8([32]byte{1}).Read(noise)
	return map[string][]byte{
		"index.html":        text("<p>scene graph</p>\n", 100),
		"js/app.js":         text("console.log('sg2im');\n", 100),
		"model.safetensors": text("\x00\x01\x02\x03", 1000),
		"noise.wasm":        noise,
		"noise.wasm.br":     []byte("stale variant"),
		"small.css":         text("a{}", 10), // under minSize
		"small.css.gz":      []byte("stale variant"),
		"image.png":         text("png", 1000), // not compressible by extension
		"data.json.gz":      text("x", 2000),   // an existing variant is never compressed
	}
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("run %q: exit %d, stderr:\n%s", args, code, &stderr)
	}
	return stdout.String()
}

func TestRoundTrip(t *testing.T) {
	files := testTree()
	dir := writeTree(t, files)
	out := runOK(t, "-quality", "5", dir)

	for _, name := range []string{"index.html", "js/app.js", "model.safetensors"} {
		p := filepath.Join(dir, name)
		gz := readFile(t, p+".gz")
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("%s.gz: %v", name, err)
		}
		if zr.Name != "" || !zr.ModTime.IsZero() {
			t.Errorf("%s.gz header has name %q, mtime %v; want neither", name, zr.Name, zr.ModTime)
		}
		checkDecoded(t, name+".gz", zr, files[name])
		checkDecoded(t, name+".br", brotli.NewReader(bytes.NewReader(readFile(t, p+".br"))), files[name])
		if !strings.Contains(out, filepath.ToSlash(name)) {
			t.Errorf("summary lacks %s:\n%s", name, out)
		}
	}
	for _, name := range []string{
		"noise.wasm.gz", "noise.wasm.br", // not smaller; stale .br removed
		"small.css.gz", "small.css.br", // too small; stale .gz removed
		"image.png.gz", "image.png.br",
		"data.json.gz.gz", "data.json.gz.br",
	} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s exists (err %v), want none", name, err)
		}
	}
	tmp, _ := filepath.Glob(filepath.Join(dir, ".precompress-*"))
	if len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	if !strings.Contains(out, "noise.wasm") || !strings.HasPrefix(out, "file ") {
		t.Errorf("summary:\n%s", out)
	}
}

// TestDeterministic compresses the same tree in two places at different
// times and compares every byte.
func TestDeterministic(t *testing.T) {
	a, b := writeTree(t, testTree()), writeTree(t, testTree())
	runOK(t, "-quality", "5", a)
	runOK(t, "-quality", "5", a) // again, over its own output
	runOK(t, "-quality", "5", b)
	err := filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		if !bytes.Equal(readFile(t, p), readFile(t, filepath.Join(b, rel))) {
			t.Errorf("%s differs between runs", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, exitUsage},
		{[]string{"a", "b"}, exitUsage},
		{[]string{"-quality", "12", "."}, exitUsage},
		{[]string{"-nope", "."}, exitUsage},
		{[]string{filepath.Join(t.TempDir(), "missing")}, exitFailure},
	} {
		var stdout, stderr bytes.Buffer
		if got := run(tc.args, &stdout, &stderr); got != tc.want {
			t.Errorf("%q: exit %d, want %d", tc.args, got, tc.want)
		}
		if stderr.Len() == 0 {
			t.Errorf("%q: nothing on stderr", tc.args)
		}
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkDecoded(t *testing.T, name string, r io.Reader, want []byte) {
	t.Helper()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Errorf("%s: %v", name, err)
	} else if !bytes.Equal(got, want) {
		t.Errorf("%s decodes to %d bytes, want the original %d", name, len(got), len(want))
	}
}
