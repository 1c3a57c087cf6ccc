package weights

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// addSeeds adds the files matching pattern in testdata, and small
// truncations of them, to f's corpus.
func addSeeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		for _, n := range []int{1, 9, 100, len(data) / 2, len(data) - 1} {
			if n < len(data) {
				f.Add(data[:n])
			}
		}
	}
}

func FuzzReadSafetensors(f *testing.F) {
	addSeeds(f, "*.safetensors")
	f.Add(stFile(`{"__metadata__":{"a":"b"},"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(stFile(`{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[6,10]}}`,
		[]byte{0x00, 0x3c, 0x01, 0x7c, 0xff, 0x03, 0x80, 0x3f, 0x81, 0xff}))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadSafetensors(data)
		// Reading from a file agrees with reading from bytes.
		streamed, serr := loadSafetensors(bytes.NewReader(data), int64(len(data)))
		if (err == nil) != (serr == nil) || err != nil && err.Error() != serr.Error() {
			t.Fatalf("from bytes: %v; from a file: %v", err, serr)
		}
		if err != nil {
			return
		}
		if d := sameFile(file, streamed); d != "" {
			t.Fatalf("from a file: %s", d)
		}
		// What was read must write out and read back the same, when it is
		// of a type we write: F16 and BF16 bit for bit.
		for _, x := range file.Tensors {
			if x.DType != F32 && x.DType != I64 && x.DType != F16 && x.DType != BF16 {
				return
			}
		}
		var b bytes.Buffer
		if err := WriteSafetensors(&b, file.Metadata, file.Tensors); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		back, err := ReadSafetensors(b.Bytes())
		if err != nil {
			t.Fatalf("reread: %v", err)
		}
		if len(back.Tensors) != len(file.Tensors) || !reflect.DeepEqual(back.Metadata, file.Metadata) && len(file.Metadata) > 0 {
			t.Fatalf("rewritten file differs")
		}
		for i, x := range file.Tensors {
			if x.DType != F16 && x.DType != BF16 {
				continue
			}
			for j, v := range x.T.Data {
				if w := back.Tensors[i].T.Data[j]; math.Float32bits(w) != math.Float32bits(v) {
					t.Fatalf("%s %s[%d]: %g read back as %g", x.DType, x.Name, j, v, w)
				}
			}
		}
	})
}

// FuzzDecode fuzzes Decode and DecodeFrom, the checkpoint readers.
func FuzzDecode(f *testing.F) {
	addSeeds(f, "*.pt")
	ck := fakeCheckpoint{kwargs: map[string]int{"a": 1}, model: []fakeTensor{
		{name: "w", st: f32Storage("s", 1, 2, 3, 4), view: []any{"v", 1, 3}, offset: 1, size: []int{2, 1}, stride: []int{1, 3}},
	}}
	f.Add(ck.legacy())
	f.Add(ck.zip(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Reading through a reader agrees with reading from bytes.
		c, _, err := decodeEither(t, "fuzzed file", data)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := c.WriteSafetensors(&b); err != nil {
			return // e.g. a generator tensor named like a discriminator's
		}
		if _, err := Decode(b.Bytes()); err != nil {
			t.Fatalf("decoding what we wrote: %v", err)
		}
	})
}

// sameFile says how two parsed files differ, "" when they do not (values
// compared bit for bit, so NaNs match).
func sameFile(a, b *File) string {
	if !reflect.DeepEqual(a.Metadata, b.Metadata) || len(a.Tensors) != len(b.Tensors) {
		return "metadata or tensor count differ"
	}
	for i, x := range a.Tensors {
		y := b.Tensors[i]
		if x.Name != y.Name || x.DType != y.DType || !reflect.DeepEqual(x.T.Shape, y.T.Shape) || len(x.T.Data) != len(y.T.Data) {
			return "tensor " + x.Name + " differs"
		}
		for j, v := range x.T.Data {
			if math.Float32bits(v) != math.Float32bits(y.T.Data[j]) {
				return "values of " + x.Name + " differ"
			}
		}
	}
	return ""
}
