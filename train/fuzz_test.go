package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadState reads mutated training-state files, seeded with the one a
// one-iteration run writes: each is refused with a *CheckpointError or
// gives networks to resume.
func FuzzReadState(f *testing.F) {
	dir := f.TempDir()
	cfg := tinyConfig()
	cfg.NumIterations = 1
	o := Options{Config: cfg, OpenData: openTiny(tinyCOCO(f), false), OutputDir: dir, Workers: 2}
	if _, err := Run(context.Background(), o); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(StatePath(dir, "checkpoint"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	path := filepath.Join(dir, "fuzzed.state.safetensors")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := readState(path)
		if err != nil {
			if _, ok := errors.AsType[*CheckpointError](err); !ok {
				t.Fatalf("error %T %v is not a *CheckpointError", err, err)
			}
			return
		}
		if s.nets == nil || s.nets.g == nil || s.nets.tr == nil {
			t.Fatal("state read without its networks")
		}
	})
}
