package weights

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/nn"
)

func nnFrom(data []float32, shape ...int) *nn.Tensor { return nn.FromData(data, shape...) }

func TestExpectedSafetensors(t *testing.T) {
	for _, name := range cases {
		data := readTestdata(t, name+".expected.safetensors")
		f, err := ReadSafetensors(data)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, x := range f.Tensors {
			names = append(names, x.Name)
			if x.DType != F32 && x.DType != I64 {
				t.Errorf("%s: %s: dtype %s", name, x.Name, x.DType)
			}
			if nn.Numel(x.T.Shape) != len(x.T.Data) {
				t.Errorf("%s: %s: shape %v for %d values", name, x.Name, x.T.Shape, len(x.T.Data))
			}
		}
		want := readFixture(t, name).Tensors
		if g, w := slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(want)); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: tensors %v, want %v", name, g, w)
		}
		objs, triples := f.Get("input.objs"), f.Get("input.triples")
		if objs.DType != I64 || len(objs.T.Shape) != 1 || triples.DType != I64 || triples.T.Dim(-1) != 3 {
			t.Errorf("%s: input.objs %s %v, input.triples %s %v", name, objs.DType, objs.T.Shape, triples.DType, triples.T.Shape)
		}
		for _, v := range triples.T.Data {
			if v < 0 || v != float32(int(v)) {
				t.Errorf("%s: input.triples holds %v", name, v)
				break
			}
		}
		if f.Get("no such tensor") != nil {
			t.Errorf("Get of a missing name is not nil")
		}
		// Our writer reproduces the reference library's file byte for byte.
		var b bytes.Buffer
		if err := WriteSafetensors(&b, f.Metadata, f.Tensors); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), data) {
			t.Errorf("%s: rewritten file differs from the original", name)
		}
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	in := []Tensor{
		{Name: "w", DType: F32, T: nnFrom([]float32{1.5, -2, 3e-8, 0}, 2, 2)},
		{Name: "count", DType: I64, T: nnFrom([]float32{-7}) /* 0-dim */},
		{Name: "empty", DType: F32, T: nnFrom([]float32{}, 0, 3)},
		{Name: "ids", DType: I64, T: nnFrom([]float32{0, 1, 1 << 24}, 3)},
		{Name: "plain", T: nnFrom([]float32{5}, 1)}, // empty DType: F32
	}
	md := map[string]string{"b": "2", "a": `{"x": "\n\u00e9"}`}
	var b bytes.Buffer
	if err := WriteSafetensors(&b, md, in); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	if n := binary.LittleEndian.Uint64(data); n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	f, err := ReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	in[4].DType = F32
	if !reflect.DeepEqual(f.Tensors, in) || !reflect.DeepEqual(f.Metadata, md) {
		t.Errorf("round trip changed the file:\n%+v\n%+v", f.Tensors, f.Metadata)
	}
}

func TestReadSafetensorsDTypes(t *testing.T) {
	for _, tc := range []struct {
		dt   DType
		raw  []byte
		want []float32
	}{
		{F64, le(float64(2.5), float64(-1)), []float32{2.5, -1}},
		{F16, le(uint16(0x3c00), uint16(0xc000), uint16(0x0001), uint16(0x7c00)), []float32{1, -2, 1.0 / (1 << 24), float32(inf)}},
		{BF16, le(uint16(0x3f80), uint16(0xc020)), []float32{1, -2.5}},
		{I32, le(int32(-3), int32(4)), []float32{-3, 4}},
		{I16, le(int16(-3), int16(4)), []float32{-3, 4}},
		{I8, []byte{0xff, 4}, []float32{-1, 4}},
		{U8, []byte{0xff, 4}, []float32{255, 4}},
		{U16, le(uint16(65535), uint16(1)), []float32{65535, 1}},
		{U32, le(uint32(7), uint32(1)), []float32{7, 1}},
		{U64, le(uint64(7), uint64(1)), []float32{7, 1}},
		{BOOL, []byte{0, 2}, []float32{0, 1}},
	} {
		header := fmt.Sprintf(`{"t":{"dtype":%q,"shape":[%d],"data_offsets":[0,%d]}}`, tc.dt, len(tc.want), len(tc.raw))
		f, err := ReadSafetensors(stFile(header, tc.raw))
		if err != nil {
			t.Errorf("%s: %v", tc.dt, err)
			continue
		}
		if got := f.Tensors[0]; got.DType != tc.dt || !reflect.DeepEqual(got.T.Data, tc.want) {
			t.Errorf("%s: got %s %v, want %v", tc.dt, got.DType, got.T.Data, tc.want)
		}
	}
}

var inf = 1 / zero()

func zero() float64 { return 0 }

// le encodes values little-endian.
func le(vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

// stFile builds a safetensors file from a header and data.
func stFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestReadSafetensorsErrors(t *testing.T) {
	f32 := func(entries string) string { return "{" + entries + "}" }
	for _, tc := range []struct {
		name, header string
		data         []byte
		want         string
	}{
		{"not an object", `[1]`, nil, "not a JSON object"},
		{"bad JSON", `{"a":`, nil, "bad JSON"},
		{"bad metadata", `{"__metadata__":{"a":1}}`, nil, "__metadata__"},
		{"offset past end", f32(`"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}`), nil, "truncated"},
		{"huge offset", f32(`"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}`), nil, "truncated"},
		{"reversed offsets", f32(`"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}`), make([]byte, 4), "data_offsets"},
		{"one offset", f32(`"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}`), make([]byte, 4), "data_offsets"},
		{"huge shape", f32(`"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,4]}`), make([]byte, 4), "does not match"},
		{"too large dim", f32(`"a":{"dtype":"F32","shape":[0,99999999999999],"data_offsets":[0,0]}`), nil, "too large"},
		{"negative dim", f32(`"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}`), make([]byte, 4), "bad entry"},
		{"wrong size", f32(`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}`), make([]byte, 4), "does not match"},
		{"overlap", f32(`"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}`), make([]byte, 4), "overlap"},
		{"gap", f32(`"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}`), make([]byte, 8), "gap"},
		{"extra bytes", f32(`"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}`), make([]byte, 8), "extra bytes"},
		{"unknown dtype", f32(`"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}`), make([]byte, 1), "unsupported dtype"},
	} {
		_, err := ReadSafetensors(stFile(tc.header, tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
		if _, ok := err.(*FormatError); !ok {
			t.Errorf("%s: error %T is not a *FormatError", tc.name, err)
		}
	}
	// A length that claims more than the file has.
	if _, err := ReadSafetensors(binary.LittleEndian.AppendUint64(nil, 1<<62)); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("huge header length: %v", err)
	}
}

func TestWriteSafetensorsErrors(t *testing.T) {
	ok := nnFrom([]float32{1}, 1)
	for _, ts := range [][]Tensor{
		{{Name: "", T: ok}},
		{{Name: "__metadata__", T: ok}},
		{{Name: "a", T: ok}, {Name: "a", T: ok}},
		{{Name: "a"}},
		{{Name: "a", DType: I32, T: ok}},
		{{Name: "a", DType: F16, T: nnFrom([]float32{1e6}, 1)}},
		{{Name: "a", DType: BF16, T: nnFrom([]float32{math.MaxFloat32}, 1)}},
		{{Name: "a", T: &nn.Tensor{Shape: []int{2}, Data: []float32{1}}}},
		{{Name: "a", T: &nn.Tensor{Shape: []int{-1}, Data: nil}}},
	} {
		if err := WriteSafetensors(&bytes.Buffer{}, nil, ts); err == nil {
			t.Errorf("no error writing %+v", ts)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.bin")
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write([]byte("old")); return err }); err != nil {
		t.Fatal(err)
	}
	fail := fmt.Errorf("disk on fire")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte("x"), 3<<20)) // more than the buffer
		return fail
	})
	if err != fail {
		t.Errorf("error %v, want %v", err, fail)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("file holds %q after a failed write", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files left in the directory", len(ents))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "such", "dir"), func(io.Writer) error { return nil }); err == nil {
		t.Errorf("no error writing into a missing directory")
	}
}

func ExampleWriteSafetensors() {
	var b bytes.Buffer
	ts := []Tensor{{Name: "w", DType: F32, T: nn.FromData([]float32{1, 2, 3, 4}, 2, 2)}}
	if err := WriteSafetensors(&b, map[string]string{"format": "sg2im"}, ts); err != nil {
		panic(err)
	}
	f, err := ReadSafetensors(b.Bytes())
	if err != nil {
		panic(err)
	}
	w := f.Get("w")
	fmt.Println(w.DType, w.T.Shape, w.T.Data, f.Metadata["format"])
	// Output: F32 [2 2] [1 2 3 4] sg2im
}
