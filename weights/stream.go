package weights

import (
	"encoding/binary"
	"io"
	"unsafe"
)

// loadSafetensors reads a safetensors file of size bytes from r straight
// into its tensors, never holding the file's bytes whole: a model loads in
// about its own size of memory, not twice that. It checks what
// ReadSafetensors checks, in the same words.
func loadSafetensors(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, formatErr("safetensors: file is %d bytes, too short for a header %s", size, hintRefetch)
	}
	var lenBytes [8]byte
	if _, err := r.ReadAt(lenBytes[:], 0); err != nil {
		return nil, readErr(err)
	}
	n, err := checkHeaderLen(binary.LittleEndian.Uint64(lenBytes[:]), uint64(size))
	if err != nil {
		return nil, err
	}
	header, err := readHeader(r, n)
	if err != nil {
		return nil, err
	}
	dataStart := 8 + int64(n)
	l, err := parseLayout(header, uint64(size-dataStart))
	if err != nil {
		return nil, err
	}
	f := &File{Metadata: l.metadata, Tensors: make([]Tensor, 0, len(l.spans))}
	scratch := make([]byte, 1<<16)
	for _, s := range l.spans {
		t, err := l.tensor(s)
		if err != nil {
			return nil, err
		}
		if err := readValues(r, dataStart+int64(s.begin), t.T.Data, s.e.DType, scratch); err != nil {
			return nil, readErr(err)
		}
		f.Tensors = append(f.Tensors, t)
	}
	return f, nil
}

// readHeader reads the n bytes of header after the length: sliced, not
// copied, from a file in memory.
func readHeader(r io.ReaderAt, n uint64) ([]byte, error) {
	if m, ok := r.(memFile); ok {
		return m[8 : 8+n], nil // checkHeaderLen has checked n
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, readErr(err)
	}
	return header, nil
}

// readValues reads len(dst) values of type d stored at off: float32s
// straight into dst, other types through scratch, a chunk at a time.
func readValues(r io.ReaderAt, off int64, dst []float32, d DType, scratch []byte) error {
	if len(dst) == 0 {
		return nil
	}
	if d == F32 && littleEndian {
		_, err := r.ReadAt(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), off)
		return err
	}
	es := d.size()
	per := len(scratch) / es
	for i := 0; i < len(dst); i += per {
		k := min(per, len(dst)-i)
		b := scratch[:k*es]
		if _, err := r.ReadAt(b, off+int64(i*es)); err != nil {
			return err
		}
		decode(dst[i:i+k], b, d)
	}
	return nil
}

// readErr reports a file that ended early or could not be read.
func readErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return formatErr("safetensors: the file ended early %s", hintRefetch)
	}
	return formatErr("safetensors: reading the file: %v", err)
}
