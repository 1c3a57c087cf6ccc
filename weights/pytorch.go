package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// legacyMagic is the number PyTorch's legacy format pickles first.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// legacyProtocol is the only legacy format version PyTorch ever wrote.
const legacyProtocol = 1001

// decodeLegacy reads PyTorch's legacy serialisation from a file of size
// bytes: pickles of the magic number, the protocol version, system info,
// the object, and the list of storage keys; then each storage as an
// 8-byte little-endian element count and its raw bytes, which are only
// located here.
func decodeLegacy(f io.ReaderAt, size int64) (any, *torchReader, error) {
	var pos int64
	next := func(part string, pl func(any) (any, error)) (any, error) {
		v, n, err := pickleAt(f, pos, size, pl)
		if err != nil {
			return nil, within("legacy checkpoint, "+part, err)
		}
		pos += int64(n)
		return v, nil
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, nil, formatErr("not a PyTorch checkpoint: a pickle without PyTorch's magic number (is it the right file?)")
	}
	proto, err := next("protocol version", nil)
	if err != nil {
		return nil, nil, err
	}
	if proto != legacyProtocol {
		return nil, nil, formatErr("legacy checkpoint: unsupported protocol version %s", describe(proto))
	}
	sysInfo, err := next("system info", nil)
	if err != nil {
		return nil, nil, err
	}
	if e, ok := dictEntries(sysInfo); ok {
		if le, ok := lookup(e, "little_endian"); ok && le == false {
			return nil, nil, formatErr("legacy checkpoint: saved on a big-endian machine, which is not supported")
		}
	}
	r := newTorchReader(f, size)
	top, err := next("main pickle", r.persistentLoad)
	if err != nil {
		return nil, nil, err
	}
	keysV, err := next("storage keys", nil)
	if err != nil {
		return nil, nil, err
	}
	keys, ok := keysV.(*types.List)
	if !ok {
		return nil, nil, formatErr("legacy checkpoint: storage key list is a %s, not a list", describe(keysV))
	}
	for _, k := range *keys {
		if pos, err = r.locateLegacy(k, pos); err != nil {
			return nil, nil, err
		}
	}
	return top, r, nil
}

// locateLegacy finds the storage called key, whose element count is at
// byte pos of a legacy file, and returns where the next one starts.
func (r *torchReader) locateLegacy(k any, pos int64) (int64, error) {
	key, _ := k.(string)
	st := r.storages[key]
	if st == nil || st.root != nil || st.located {
		return 0, formatErr("legacy checkpoint: storage key %s is not a storage of the pickle", describe(k))
	}
	es := st.class.dtype.size()
	if es == 0 {
		return 0, formatErr("legacy checkpoint: storage %q has unsupported type %s", key, st.class.name)
	}
	rest := r.size - pos
	if rest < 8 {
		return 0, formatErr("truncated file: storage %q needs an 8-byte size, %d bytes remain %s", key, rest, hintRefetch)
	}
	b, err := readSpan(r.file, pos, 8)
	if err != nil {
		return 0, err
	}
	n := binary.LittleEndian.Uint64(b)
	if n != uint64(st.numel) {
		return 0, formatErr("corrupt checkpoint: storage %q has %d elements in the file but %d in the pickle", key, n, st.numel)
	}
	pos += 8
	if int64(st.numel) > (r.size-pos)/int64(es) {
		return 0, formatErr("truncated file: storage %q needs %s bytes, %d remain %s", key, byteCount(n, es), r.size-pos, hintRefetch)
	}
	st.located, st.at = true, pos
	return pos + int64(st.numel)*int64(es), nil
}

// byteCount is n*es in decimal, exact even past 2^64.
func byteCount(n uint64, es int) string {
	return new(big.Int).Mul(new(big.Int).SetUint64(n), big.NewInt(int64(es))).String()
}

// decodeZip reads PyTorch's zip serialisation from a file of size bytes:
// <dir>/data.pkl, whose storages are the records <dir>/data/<key>.
func decodeZip(file io.ReaderAt, size int64) (any, *torchReader, error) {
	zr, err := zip.NewReader(file, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are only looked up, never used as paths
		return nil, nil, formatErr("truncated or corrupt zip archive: %v %s", err, hintRefetch)
	}
	files := make(map[string]*zip.File, len(zr.File))
	var pkl *zip.File
	for _, f := range zr.File {
		files[f.Name] = f
		dir, ok := strings.CutSuffix(f.Name, "data.pkl")
		if ok && pkl == nil && (dir == "" || strings.Count(dir, "/") == 1 && strings.HasSuffix(dir, "/")) {
			pkl = f
		}
	}
	if pkl == nil {
		return nil, nil, formatErr("zip archive has no data.pkl: not a PyTorch checkpoint")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if f := files[prefix+"byteorder"]; f != nil {
		b, err := recordBytes(file, size, f, 0, min(f.UncompressedSize64, 16))
		if err != nil {
			return nil, nil, err
		}
		if string(b) != "little" {
			return nil, nil, formatErr("checkpoint byte order is %q; only little-endian is supported", b)
		}
	}
	if pkl.UncompressedSize64 > maxPickleBytes {
		return nil, nil, formatErr("%s is %d bytes, more than the %d MiB a checkpoint's pickle may have", pkl.Name, pkl.UncompressedSize64, maxPickleBytes>>20)
	}
	p, err := recordBytes(file, size, pkl, 0, pkl.UncompressedSize64)
	if err != nil {
		return nil, nil, err
	}
	r := newTorchReader(file, size)
	inflate := inflateBudget(size)
	r.locate = func(st *storage, lo, hi int) (int64, []byte, error) {
		name := prefix + "data/" + st.key
		f := files[name]
		if f == nil {
			return 0, nil, formatErr("corrupt checkpoint: zip archive has no record %q for storage %q", name, st.key)
		}
		es := uint64(st.class.dtype.size())
		if uint64(st.numel) > f.UncompressedSize64/es {
			return 0, nil, formatErr("corrupt checkpoint: storage %q needs %d values, its record holds %d bytes", st.key, st.numel, f.UncompressedSize64)
		}
		if f.Method == zip.Store {
			at, err := storedAt(f, size, uint64(hi)*es)
			return at + int64(uint64(lo)*es), nil, err
		}
		// Each tensor inflates its record up to its last value.
		if inflate -= int64(uint64(hi) * es); inflate < 0 {
			return 0, nil, formatErr("zip record %q: the tensors ask for more inflated bytes than a checkpoint of %d bytes can hold (a decompression bomb?)", name, size)
		}
		b, err := recordBytes(file, size, f, uint64(lo)*es, uint64(hi)*es)
		return 0, b, err
	}
	top, _, err := unpickle(p, 0, r.persistentLoad)
	if err != nil {
		return nil, nil, err
	}
	return top, r, nil
}

// maxDeflateRatio bounds how far deflate can expand its input (258 bytes
// per 2-bit code is about 1032:1), so no claimed size beyond it is trusted.
const maxDeflateRatio = 1032

// inflateBudget is how many bytes the deflated records of a zip file of
// size n may inflate to, all reads together: far more than a checkpoint's
// weights compress by, far less than a bomb.
func inflateBudget(n int64) int64 { return 16*n + 64<<20 }

// recordStart is where the data of the zip record f starts in a file of
// size bytes.
func recordStart(f *zip.File, size int64) (int64, error) {
	off, err := f.DataOffset()
	if err != nil || off < 0 || off > size {
		return 0, formatErr("corrupt zip record %q %s", f.Name, hintRefetch)
	}
	return off, nil
}

// storedAt is where the stored (uncompressed) zip record f starts, once
// its first n bytes are known to lie in the file.
func storedAt(f *zip.File, size int64, n uint64) (int64, error) {
	off, err := recordStart(f, size)
	if err != nil {
		return 0, err
	}
	if rest := uint64(size - off); n > rest {
		return 0, formatErr("truncated file: record %q needs %d bytes, %d remain %s", f.Name, n, rest, hintRefetch)
	}
	return off, nil
}

// recordBytes returns bytes [lo, n) of the zip record f; stored records
// are read (or sliced from memory), deflated ones inflated up to n with
// only that range kept.
func recordBytes(file io.ReaderAt, size int64, f *zip.File, lo, n uint64) ([]byte, error) {
	switch f.Method {
	case zip.Store:
		off, err := storedAt(f, size, n)
		if err != nil {
			return nil, err
		}
		return readSpan(file, off+int64(lo), int64(n-lo))
	case zip.Deflate:
		off, err := recordStart(f, size)
		if err != nil {
			return nil, err
		}
		if f.CompressedSize64 > uint64(size-off) || n/maxDeflateRatio > f.CompressedSize64 {
			return nil, formatErr("corrupt zip record %q: sizes do not fit the file %s", f.Name, hintRefetch)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, formatErr("corrupt zip record %q: %v", f.Name, err)
		}
		defer rc.Close()
		if _, err := io.CopyN(io.Discard, rc, int64(lo)); err != nil {
			return nil, formatErr("corrupt zip record %q: %v %s", f.Name, err, hintRefetch)
		}
		// Grow with the data actually inflated, not the size claimed.
		var buf bytes.Buffer
		if _, err := io.CopyN(&buf, rc, int64(n-lo)); err != nil {
			return nil, formatErr("corrupt zip record %q: %v %s", f.Name, err, hintRefetch)
		}
		return buf.Bytes(), nil
	}
	return nil, formatErr("zip record %q uses compression method %d; only stored and deflated records are supported", f.Name, f.Method)
}

// describe names a pickled value's type for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return fmt.Sprintf("%q", x)
	case int, bool, float64:
		return fmt.Sprint(x)
	case *types.Tuple:
		return fmt.Sprintf("tuple of %d", len(*x))
	case *types.List:
		return fmt.Sprintf("list of %d", len(*x))
	case *types.Dict, *types.OrderedDict:
		return "dict"
	case *lazyTensor:
		return "tensor"
	case *storage:
		return "storage"
	case *pyObject:
		return x.class.module + "." + x.class.name + " object"
	case *pyClass:
		return "class " + x.module + "." + x.name
	}
	return fmt.Sprintf("%T", v)
}
