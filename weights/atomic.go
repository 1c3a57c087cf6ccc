package weights

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// WriteFileAtomic writes a file through write: into a temporary file in
// the same directory, synced, then renamed over path. A failure (or a
// crash) leaves any previous file at path untouched.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+tempMark+"*")
	if err != nil {
		return fmt.Errorf("weights: %w", err)
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
		return fmt.Errorf("weights: writing %s: %w", path, err)
	}
	// CreateTemp makes the file private; give it the usual permissions.
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("weights: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("weights: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("weights: writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("weights: writing %s: %w", path, err)
	}
	done = true
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename durable where the system supports it; failure only
// weakens durability, so it is ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// tempMark follows the file's name in WriteFileAtomic's temporary names:
// "." + name + tempMark + random digits.
const tempMark = ".tmp"

// RemoveStaleTemps deletes the temporary files that WriteFileAtomic calls
// into dir left behind when their process was killed, and returns their
// names. Call it only where no other process is writing.
func RemoveStaleTemps(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	var removed []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTempName(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil {
			return removed, fmt.Errorf("weights: %w", err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// isTempName reports whether name is one of WriteFileAtomic's: a dot, a
// name, tempMark and digits only.
func isTempName(name string) bool {
	i := strings.LastIndex(name, tempMark)
	if !strings.HasPrefix(name, ".") || i < 2 || i+len(tempMark) == len(name) {
		return false
	}
	return strings.Trim(name[i+len(tempMark):], "0123456789") == ""
}
