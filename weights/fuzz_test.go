package weights

import (
	"bytes"
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
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadSafetensors(data)
		if err != nil {
			return
		}
		// What was read must write out and read back the same, when it is
		// of a type we write.
		for _, x := range file.Tensors {
			if x.DType != F32 && x.DType != I64 {
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
	})
}

func FuzzDecode(f *testing.F) {
	addSeeds(f, "*.pt")
	ck := fakeCheckpoint{kwargs: map[string]int{"a": 1}, model: []fakeTensor{
		{name: "w", st: f32Storage("s", 1, 2, 3, 4), view: []any{"v", 1, 3}, offset: 1, size: []int{2, 1}, stride: []int{1, 3}},
	}}
	f.Add(ck.legacy())
	f.Add(ck.zip(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Decode(data)
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
