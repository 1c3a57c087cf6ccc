package weights

import (
	"os"
	"syscall"
	"unsafe"
)

// mapped is a checkpoint file mapped into memory, read-only: its pages are
// read as the decoder reaches them, and given back (release) once the
// tensors they hold are decoded, so that a .pt file never sits in memory
// whole beside its tensors.
type mapped struct{ data []byte }

func mapFile(f *os.File, size int64) (*mapped, error) {
	if size == 0 {
		return &mapped{}, nil
	}
	if int64(int(size)) != size {
		return nil, formatErr("file of %d bytes is too large to load", size)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		return readWhole(f, size)
	}
	return &mapped{data: data}, nil
}

// release drops the whole pages of b, when b lies in the mapping: they
// leave the process's memory and are read again from the file if touched.
func (m *mapped) release(b []byte) {
	if len(b) == 0 || len(m.data) == 0 {
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if at < base || at+uintptr(len(b)) > base+uintptr(len(m.data)) {
		return // inflated from a compressed record: not the file's pages
	}
	page := uintptr(os.Getpagesize())
	lo := (at - base + page - 1) &^ (page - 1)
	hi := (at - base + uintptr(len(b))) &^ (page - 1)
	if hi > lo {
		syscall.Madvise(m.data[lo:hi], syscall.MADV_DONTNEED)
	}
}

func (m *mapped) close() {
	if m.data != nil {
		syscall.Munmap(m.data)
		m.data = nil
	}
}
