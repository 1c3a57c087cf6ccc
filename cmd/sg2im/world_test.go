package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWorldExport(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"world", "--out", dir, "--n", "3", "--seed", "2"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"instances.json", "stuff.json", "relationships.json", "images/00000002.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if code := run([]string{"world", "--n", "3"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("without --out: exit %d, want %d", code, exitUsage)
	}
	if code := run([]string{"world", "--out", dir, "--image_size", "7"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("image size 7: exit %d, want %d", code, exitUsage)
	}
}
