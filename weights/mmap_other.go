//go:build !linux

package weights

import "os"

// mapped holds a checkpoint file's bytes; only Linux maps them (see
// mmap_linux.go).
type mapped struct{ data []byte }

func mapFile(f *os.File, size int64) (*mapped, error) { return readWhole(f, size) }

func (m *mapped) release([]byte) {}

func (m *mapped) close() {}
