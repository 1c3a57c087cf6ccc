package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShardsCommand writes world shards, then runs again into the same
// directory (keeping them), and refuses bad flags with usage errors.
func TestShardsCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	args := []string{"shards", "--dataset", "world", "--image_size", "32", "--mask_size", "8",
		"--num_examples", "6", "--shard_size", "4", "--draws", "2", "--out", dir}
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "wrote 6 examples (0 skipped) x 2 draws in 2 shards") {
		t.Errorf("summary %q", out.String())
	}
	first, err := os.ReadFile(filepath.Join(dir, "shard-00001.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errb.String())
	}
	again, _ := os.ReadFile(filepath.Join(dir, "shard-00001.safetensors"))
	if !bytes.Equal(first, again) {
		t.Error("the second run changed a shard")
	}
	for _, bad := range [][]string{
		{"shards", "--dataset", "world"},
		{"shards", "--dataset", "world", "--out", dir, "--mask_size", "12"},
		{"shards", "--dataset", "world", "--out", dir, "--draws", "0"},
		{"shards", "--dataset", "mars", "--out", dir},
	} {
		errb.Reset()
		if code := run(bad, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", bad, code, exitUsage, errb.String())
		}
	}
	errb.Reset()
	bad := append(append([]string{}, args...), "--seed", "5")
	if code := run(bad, &out, &errb); code == 0 || !strings.Contains(errb.String(), "another configuration") {
		t.Errorf("another seed into the same directory: exit %d, %q", code, errb.String())
	}
}
