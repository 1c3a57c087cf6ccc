package e2e

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeVersion is the axe-core release the accessibility checks run; the
// file is fetched once with npm and kept in the user's cache, so nothing
// is vendored and an offline run with a warm cache still checks.
const axeVersion = "4.10.3"

// axeSource returns axe.min.js: from $SG2IM_AXE when set, else from the
// cache, else fetched with `npm pack axe-core@axeVersion` into the cache.
// Without npm or the network the test is skipped, saying how to run it.
func axeSource(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SG2IM_AXE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("SG2IM_AXE: %v", err)
		}
		return string(b)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "sg2im-e2e", "axe-core-"+axeVersion)
	path := filepath.Join(dir, "axe.min.js")
	if b, err := os.ReadFile(path); err == nil {
		return string(b)
	}
	skip := func(why string, args ...any) {
		t.Skipf("axe-core %s is not available (%s); run with npm and the registry reachable once, or set SG2IM_AXE to an axe.min.js", axeVersion, fmt.Sprintf(why, args...))
	}
	if _, err := exec.LookPath("npm"); err != nil {
		skip("npm is not installed")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		skip("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "pack", "--silent", "axe-core@"+axeVersion, "--pack-destination", dir)
	out, err := cmd.Output()
	if err != nil {
		skip("npm pack failed: %v", err)
	}
	tgz := filepath.Join(dir, strings.TrimSpace(string(out)))
	js, err := fileFromTgz(tgz, "package/axe.min.js")
	os.Remove(tgz)
	if err != nil {
		skip("%v", err)
	}
	if err := os.WriteFile(path, js, 0o644); err != nil {
		t.Log(err)
	}
	return string(js)
}

// fileFromTgz reads one file of a gzipped tar (an npm package).
func fileFromTgz(path, name string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("%s has no %s: %v", path, name, err)
		}
		if h.Name == name {
			return io.ReadAll(io.LimitReader(tr, 16<<20))
		}
	}
}

// axeViolation is what the checks report of one broken rule.
type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// checkAxe runs axe-core on the page in ctx and fails on any violation.
func checkAxe(t *testing.T, ctx context.Context, src, page string) {
	t.Helper()
	do(t, ctx, src)
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		for _, n := range v.Nodes {
			t.Errorf("axe on %s: %s (%s) at %v: %s", page, v.ID, v.Help, n.Target, n.Summary)
		}
	}
	t.Logf("axe-core %s on %s: %d violations", axeVersion, page, len(vs))
}
