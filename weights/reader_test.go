package weights

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fileReader is a file read through ReadAt only, as the browser reads a
// picked file: it counts what is read, and can fail to read a byte (a
// file that changed while it was read).
type fileReader struct {
	data    []byte
	bad     int // a read of this byte fails; -1 for none
	read    int // bytes read in all
	largest int // the largest single read
}

func newFileReader(data []byte) *fileReader { return &fileReader{data: data, bad: -1} }

func (f *fileReader) ReadAt(p []byte, off int64) (int, error) {
	f.read += len(p)
	f.largest = max(f.largest, len(p))
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if f.bad >= 0 && off <= int64(f.bad) && int64(f.bad) < off+int64(len(p)) {
		return f.bad - int(off), io.ErrUnexpectedEOF
	}
	if off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// withoutPointers is an error's message without the addresses some of
// gopickle's messages hold.
func withoutPointers(err error) string {
	return regexp.MustCompile(`0x[0-9a-f]{6,}`).ReplaceAllString(err.Error(), "0x...")
}

// sameCheckpoint says how two decoded checkpoints differ, "" when they do
// not (values compared bit for bit).
func sameCheckpoint(a, b *Checkpoint) string {
	if a.Format != b.Format || !bytes.Equal(a.Args, b.Args) || !bytes.Equal(a.ModelKwargs, b.ModelKwargs) ||
		!bytes.Equal(a.DImgKwargs, b.DImgKwargs) || !bytes.Equal(a.DObjKwargs, b.DObjKwargs) {
		return "format, args or kwargs differ"
	}
	for _, p := range [][2][]Tensor{{a.Model, b.Model}, {a.DImg, b.DImg}, {a.DObj, b.DObj}} {
		if (p[0] == nil) != (p[1] == nil) {
			return "a state dict is present in one only"
		}
		if d := sameFile(&File{Tensors: p[0]}, &File{Tensors: p[1]}); d != "" {
			return d
		}
	}
	return ""
}

// decodeEither decodes data from memory and through a reader, and wants
// the same checkpoint or the same error.
func decodeEither(t *testing.T, what string, data []byte) (*Checkpoint, *fileReader, error) {
	t.Helper()
	c, err := Decode(data)
	f := newFileReader(data)
	cr, rerr := DecodeFrom(f, int64(len(data)))
	if (err == nil) != (rerr == nil) || err != nil && withoutPointers(err) != withoutPointers(rerr) {
		t.Fatalf("%s: from memory: %v; through a reader: %v", what, err, rerr)
	}
	if err == nil {
		if d := sameCheckpoint(c, cr); d != "" {
			t.Fatalf("%s: through a reader: %s", what, d)
		}
	}
	return cr, f, rerr
}

func TestDecodeFromAgreesWithDecode(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "*.pt"))
	st, _ := filepath.Glob(filepath.Join("..", "testdata", "*.safetensors"))
	files = append(files, st...)
	if len(files) == 0 {
		t.Fatal("no checkpoints in testdata")
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{len(data), len(data) - 1, len(data) / 2, 100, 9, 1} {
			decodeEither(t, filepath.Base(name), data[:n])
		}
	}
}

func TestDecodeFromSkipsUnusedStorages(t *testing.T) {
	// A storage of 4 MB that no state dict uses (as optimizer state) is
	// never read, and no read is that large.
	unused := fakeTensor{name: "m", st: f32Storage("big", make([]float32, 1<<20)...), size: []int{1 << 20}, stride: []int{1}}
	ck := fakeCheckpoint{kwargs: map[string]int{"a": 1}, model: []fakeTensor{
		{name: "w", st: f32Storage("s", 1, 2, 3, 4), size: []int{2, 2}, stride: []int{2, 1}},
	}}
	ck.extra = func(p *pk) {
		// optim_state: {"m": tensor} naming the big storage.
		p.str("optim_state").op('}', '(')
		p.str(unused.name).global("torch._utils", "_rebuild_tensor_v2").op('(')
		p.op('(').str("storage").global("torch", "FloatStorage").str("big").str("cpu").int(1<<20).op('N', 't', 'Q')
		p.int(0).ints(unused.size).ints(unused.stride)
		p.op(0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R', 'u')
	}
	data := legacyWith(ck, unused.st)
	c, f, err := decodeEither(t, "legacy file with an unused storage", data)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Model[0].T.Data; len(got) != 4 || got[3] != 4 {
		t.Fatalf("w = %v, want [1 2 3 4]", got)
	}
	t.Logf("%d of %d bytes read, at most %d at once", f.read, len(data), f.largest)
	if f.read >= 1<<20 || f.largest >= 1<<20 {
		t.Errorf("read %d bytes (at most %d at once) of a file whose needed part is a few kB", f.read, f.largest)
	}
}

// legacyWith writes ck as a legacy file with extra storages after its own,
// named by its extra pickle entries.
func legacyWith(ck fakeCheckpoint, extra ...fakeStorage) []byte {
	model := ck.model
	for _, s := range extra {
		ck.model = append(ck.model, fakeTensor{st: s})
	}
	sts := ck.storages()
	ck.model = model
	var b bytes.Buffer
	b.Write(ck.legacy()[:len(ck.legacy())-storageBytes(ck.storages())])
	// Replace the storage key list with one naming the extra storages too.
	keysAt := bytes.LastIndex(b.Bytes(), []byte{0x80, 2, ']', '('})
	b.Truncate(keysAt)
	keys := &pk{}
	keys.op(0x80, 2, ']', '(')
	for _, s := range sts {
		keys.str(s.key)
	}
	b.Write(keys.op('e', '.').Bytes())
	for _, s := range sts {
		b.Write(le64(uint64(s.numel)))
		b.Write(s.data)
	}
	return b.Bytes()
}

func storageBytes(sts []fakeStorage) int {
	n := 0
	for _, s := range sts {
		n += 8 + len(s.data)
	}
	return n
}

func le64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

func TestDecodeFromLargePickle(t *testing.T) {
	// A main pickle of 1 MB (long args) is found through windows that
	// grow past the first.
	ck := fakeCheckpoint{kwargs: map[string]int{"a": 1}, model: []fakeTensor{
		{name: "w", st: f32Storage("s", 5, 6), size: []int{2}, stride: []int{1}},
	}, extra: func(p *pk) { p.str("args").str(strings.Repeat("x", 1<<20)) }}
	c, _, err := decodeEither(t, "1 MB pickle", ck.legacy())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Args) < 1<<20 || c.Model[0].T.Data[1] != 6 {
		t.Fatalf("args of %d bytes, w = %v", len(c.Args), c.Model[0].T.Data)
	}
}

func TestDecodeFromFileThatShrinks(t *testing.T) {
	ck := fakeCheckpoint{kwargs: map[string]int{"a": 1}, model: []fakeTensor{
		{name: "w", st: f32Storage("s", 1, 2, 3, 4), size: []int{4}, stride: []int{1}},
	}}
	for what, data := range map[string][]byte{"legacy": ck.legacy(), "zip": ck.zip(t)} {
		f := newFileReader(data)
		f.bad = bytes.Index(data, []byte{0, 0, 0x80, 0x3f}) + 2 // within the storage's 1.0
		if f.bad < 2 {
			t.Fatalf("%s: the storage is not in the file", what)
		}
		_, err := DecodeFrom(f, int64(len(data)))
		if _, ok := errors.AsType[*FormatError](err); !ok || !strings.Contains(err.Error(), hintRefetch) {
			t.Errorf("%s: error %v, want a *FormatError saying to fetch the file again", what, err)
		}
	}
}
