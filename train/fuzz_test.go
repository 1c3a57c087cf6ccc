package train

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadState reads training-state files whose header (the JSON with
// the metadata and the tensors' names, shapes and offsets) is mutated from
// the one a one-iteration run writes, before its tensor bytes (the bytes
// themselves are FuzzReadSafetensors' part): each is refused with a
// *CheckpointError or gives networks to resume.
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
	n := binary.LittleEndian.Uint64(seed)
	header, tensors := seed[8:8+n], seed[8+n:]
	f.Add(header)
	f.Add(header[:len(header)/2])
	path := filepath.Join(dir, "fuzzed.state.safetensors")
	f.Fuzz(func(t *testing.T, header []byte) {
		data := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		data = append(append(data, header...), tensors...)
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
