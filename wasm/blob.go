//go:build js && wasm

package wasm

import (
	"errors"
	"io"
	"syscall/js"

	"github.com/sg2im-go/sg2im/internal/jsutil"
)

// blobReader reads a Blob (a picked File, a downloaded model) a range at a
// time, blob.slice(a, b).arrayBuffer(), so that a model's file never sits
// whole in the worker's memory, which never shrinks: the browser keeps a
// picked file on disk, a downloaded one in its blob storage.
type blobReader struct {
	blob js.Value
	size int64
	// window holds bytes read ahead from windowAt: small reads (a zip's
	// directory, pickles, values converted a chunk at a time) take one
	// JavaScript round trip per window, not one each.
	window   []byte
	windowAt int64
}

const (
	readAhead = 4 << 20  // bytes read at once for reads smaller than this
	maxSlice  = 16 << 20 // the most bytes one slice of the blob is read in
)

func newBlobReader(blob js.Value) *blobReader {
	return &blobReader{blob: blob, size: int64(blob.Get("size").Float())}
}

func (b *blobReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= b.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), b.size-off))
	if n < readAhead {
		if off < b.windowAt || off+int64(n) > b.windowAt+int64(len(b.window)) {
			if err := b.fill(off); err != nil {
				return 0, err
			}
		}
		copy(p[:n], b.window[off-b.windowAt:])
	} else {
		for i := 0; i < n; i += maxSlice {
			k := min(maxSlice, n-i)
			if err := b.read(p[i:i+k], off+int64(i)); err != nil {
				return i, err
			}
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// fill reads the window starting at off.
func (b *blobReader) fill(off int64) error {
	if b.window == nil {
		b.window = make([]byte, readAhead)
	}
	b.window = b.window[:min(readAhead, b.size-off)]
	b.windowAt = off
	if err := b.read(b.window, off); err != nil {
		b.window = b.window[:0]
		return err
	}
	return nil
}

// read copies the len(p) bytes at off of the blob into p.
func (b *blobReader) read(p []byte, off int64) error {
	ab, err := jsutil.Await(b.blob.Call("slice", off, off+int64(len(p))).Call("arrayBuffer"))
	if err != nil {
		return err // the file changed or went since it was picked
	}
	arr := js.Global().Get("Uint8Array").New(ab)
	if arr.Length() != len(p) {
		return io.ErrUnexpectedEOF
	}
	js.CopyBytesToGo(p, arr)
	return nil
}
