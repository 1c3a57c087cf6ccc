// Package atomicfile writes files whole or not at all: checkpoints,
// training state, PNGs, plots and precompressed assets, which a reader (a
// resumed run, a browser, an embed) must never see half-written.
package atomicfile

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Write writes a file through write: into a temporary file in the same
// directory, synced, then renamed over path. A failure (or a crash) leaves
// any previous file at path untouched.
func Write(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+tempMark+"*")
	if err != nil {
		return err
	}
	done := false
	defer func() { // also on a panic in write
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// CreateTemp makes the file private; give it the usual permissions.
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	done = true
	syncDir(filepath.Dir(path))
	return nil
}

// WriteBytes writes data to path atomically.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}

// WritePNG writes img to path as a PNG, atomically.
func WritePNG(path string, img image.Image) error {
	return Write(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// syncDir makes a rename durable where the system supports it; failure only
// weakens durability, so it is ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// tempMark follows the file's name in Write's temporary names:
// "." + name + tempMark + random digits.
const tempMark = ".tmp"

// RemoveStaleTemps deletes the temporary files that Write calls
// into dir left behind when their process was killed, and returns their
// names. Call it only where no other process is writing.
func RemoveStaleTemps(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTempName(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// isTempName reports whether name is one of Write's: a dot, a
// name, tempMark and digits only.
func isTempName(name string) bool {
	i := strings.LastIndex(name, tempMark)
	if !strings.HasPrefix(name, ".") || i < 2 || i+len(tempMark) == len(name) {
		return false
	}
	return strings.Trim(name[i+len(tempMark):], "0123456789") == ""
}
