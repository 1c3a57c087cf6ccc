package weights

import (
	"errors"
	"io"
)

// memFile is a file already in memory (Decode's bytes): what is read from
// it is sliced, not copied.
type memFile []byte

func (m memFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readSpan returns the n bytes at off of a file whose size says they are
// there: a slice of memory, or a new buffer read from a file.
func readSpan(r io.ReaderAt, off, n int64) ([]byte, error) {
	if m, ok := r.(memFile); ok {
		if off < 0 || n < 0 || off > int64(len(m)) || n > int64(len(m))-off {
			return nil, formatErr("the file ended early %s", hintRefetch)
		}
		return m[off : off+n], nil
	}
	b := make([]byte, n)
	if n == 0 {
		return b, nil
	}
	if _, err := r.ReadAt(b, off); err != nil {
		return nil, fileReadErr(err)
	}
	return b, nil
}

// fileReadErr reports a file that ended early (it changed while read) or
// could not be read.
func fileReadErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErr("the file ended early %s", hintRefetch)
	}
	return formatErr("reading the file: %v", err)
}

// Windows in which a pickle is looked for: it grows from the first until
// it holds the whole pickle. Scanning a window costs at least its bytes
// (see opCost), so a pickle that does not fit the last is too large.
const (
	firstPickleWindow = 64 << 10
	lastPickleWindow  = maxPickleAlloc + 1
)

// pickleAt loads the pickle that starts at byte off of a file of size
// bytes, reading only as much of the file as the pickle needs.
func pickleAt(r io.ReaderAt, off, size int64, persistentLoad func(any) (any, error)) (v any, n int, err error) {
	if m, ok := r.(memFile); ok {
		return unpickle(m[off:], int(off), persistentLoad)
	}
	for w := int64(firstPickleWindow); ; w = min(4*w, lastPickleWindow) {
		w = min(w, size-off)
		buf, err := readSpan(r, off, w)
		if err != nil {
			return nil, 0, err
		}
		v, n, short, err := unpickleShort(buf, int(off), persistentLoad)
		switch {
		case !short || w == size-off:
			return v, n, err
		case w == lastPickleWindow:
			return nil, 0, pickleTooBig(int(off + w))
		}
	}
}
