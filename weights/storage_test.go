package weights

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/nn"
)

// decodeBoth decodes ck from its legacy and its zip serialisation and
// checks that both give the same model.
func decodeBoth(t *testing.T, ck fakeCheckpoint) ([]Tensor, error) {
	t.Helper()
	if ck.kwargs == nil {
		ck.kwargs = map[string]int{"embedding_dim": 1}
	}
	l, lerr := Decode(ck.legacy())
	z, zerr := Decode(ck.zip(t))
	if (lerr == nil) != (zerr == nil) {
		t.Fatalf("legacy error %v, zip error %v", lerr, zerr)
	}
	if lerr != nil {
		return nil, lerr
	}
	if !reflect.DeepEqual(l.Model, z.Model) {
		t.Fatalf("legacy %+v and zip %+v differ", l.Model, z.Model)
	}
	return l.Model, nil
}

func TestTensorViews(t *testing.T) {
	st := f32Storage("s", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	for _, tc := range []struct {
		name         string
		offset       int
		size, stride []int
		want         []float32
	}{
		{"contiguous", 0, []int{3, 4}, []int{4, 1}, []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"transposed", 0, []int{4, 3}, []int{1, 4}, []float32{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}},
		{"offset", 5, []int{2, 3}, []int{3, 1}, []float32{5, 6, 7, 8, 9, 10}},
		{"every other", 1, []int{2, 2}, []int{6, 2}, []float32{1, 3, 7, 9}},
		{"0-dim", 7, []int{}, []int{}, []float32{7}},
		{"broadcast", 2, []int{2, 3}, []int{0, 1}, []float32{2, 3, 4, 2, 3, 4}},
		{"size-1 dims any stride", 3, []int{1, 2, 1}, []int{99, 1, 42}, []float32{3, 4}},
		{"empty", 0, []int{0, 5}, []int{5, 1}, []float32{}},
		{"whole storage last element", 11, []int{1}, []int{1}, []float32{11}},
	} {
		m, err := decodeBoth(t, fakeCheckpoint{model: []fakeTensor{{name: "t", st: st, offset: tc.offset, size: tc.size, stride: tc.stride}}})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := m[0].T; !reflect.DeepEqual(got.Data, tc.want) || !nn.SameShape(got.Shape, tc.size) {
			t.Errorf("%s: got %v %v, want %v %v", tc.name, got.Shape, got.Data, tc.size, tc.want)
		}
	}
}

func TestTensorViewErrors(t *testing.T) {
	st := f32Storage("s", 0, 1, 2, 3)
	for _, tc := range []struct {
		name         string
		offset       int
		size, stride []int
		want         string
	}{
		{"past the end", 1, []int{4}, []int{1}, "past the end"},
		{"stride past the end", 0, []int{2}, []int{4}, "past the end"},
		{"huge stride", 0, []int{2}, []int{1 << 62}, "past the end"},
		{"huge offset", 1 << 62, []int{1}, []int{1}, "past the end"},
		{"huge shape", 0, []int{1 << 30, 1 << 30, 1 << 30}, []int{0, 0, 0}, "more values than the file"},
		{"negative size", 0, []int{-1}, []int{1}, "bad size"},
		{"negative stride", 0, []int{2}, []int{-1}, "bad size"},
		{"negative offset", -1, []int{1}, []int{1}, "bad offset"},
		{"rank mismatch", 0, []int{2}, []int{1, 1}, "bad offset"},
	} {
		_, err := decodeBoth(t, fakeCheckpoint{model: []fakeTensor{{name: "t", st: st, offset: tc.offset, size: tc.size, stride: tc.stride}}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

func TestStorageTypes(t *testing.T) {
	for _, tc := range []struct {
		class string
		raw   []byte
		dt    DType
		want  []float32
	}{
		{"DoubleStorage", le(float64(0.5), float64(-3)), F32, []float32{0.5, -3}},
		{"HalfStorage", le(uint16(0x3c00), uint16(0xbc00)), F32, []float32{1, -1}},
		{"BFloat16Storage", le(uint16(0x3f80), uint16(0x4000)), F32, []float32{1, 2}},
		{"LongStorage", le(int64(-5), int64(1<<40)), I64, []float32{-5, 1 << 40}},
		{"IntStorage", le(int32(-5), int32(9)), I64, []float32{-5, 9}},
		{"ShortStorage", le(int16(-5), int16(9)), I64, []float32{-5, 9}},
		{"CharStorage", []byte{0xfb, 9}, I64, []float32{-5, 9}},
		{"ByteStorage", []byte{0xfb, 9}, I64, []float32{251, 9}},
		{"BoolStorage", []byte{1, 0}, I64, []float32{1, 0}},
	} {
		st := fakeStorage{key: "k", class: tc.class, data: tc.raw, numel: 2}
		m, err := decodeBoth(t, fakeCheckpoint{model: []fakeTensor{{name: "t", st: st, size: []int{2}, stride: []int{1}}}})
		if err != nil {
			t.Errorf("%s: %v", tc.class, err)
			continue
		}
		if m[0].DType != tc.dt || !reflect.DeepEqual(m[0].T.Data, tc.want) {
			t.Errorf("%s: got %s %v, want %s %v", tc.class, m[0].DType, m[0].T.Data, tc.dt, tc.want)
		}
	}
	st := fakeStorage{key: "k", class: "ComplexFloatStorage", data: make([]byte, 8), numel: 1}
	ck := fakeCheckpoint{kwargs: map[string]int{}, model: []fakeTensor{{name: "t", st: st, size: []int{1}, stride: []int{1}}}}
	if _, err := Decode(ck.zip(t)); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("complex storage: %v", err)
	}
}

func TestLegacyStorageViews(t *testing.T) {
	// PyTorch 0.4 could save views of one storage: (view_key, offset, size).
	st := f32Storage("root", 0, 1, 2, 3, 4, 5)
	ck := fakeCheckpoint{kwargs: map[string]int{}, model: []fakeTensor{
		{name: "a", st: st, view: []any{"v1", 1, 3}, size: []int{3}, stride: []int{1}},
		{name: "b", st: st, view: []any{"v2", 4, 2}, offset: 1, size: []int{1}, stride: []int{1}},
	}}
	c, err := Decode(ck.legacy())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Model[0].T.Data, []float32{1, 2, 3}) || !reflect.DeepEqual(c.Model[1].T.Data, []float32{5}) {
		t.Errorf("views read %v and %v", c.Model[0].T.Data, c.Model[1].T.Data)
	}
	ck.model[1].view = []any{"v3", 4, 3}
	if _, err := Decode(ck.legacy()); err == nil || !strings.Contains(err.Error(), "bad storage view") {
		t.Errorf("view past the end: %v", err)
	}
}

func TestStorageSizeErrors(t *testing.T) {
	// A storage that claims 2^40 elements in a tiny file.
	st := f32Storage("s", 1, 2)
	st.numel = 1 << 40
	ck := fakeCheckpoint{kwargs: map[string]int{}, model: []fakeTensor{{name: "t", st: st, size: []int{1}, stride: []int{1}}}}
	if _, err := Decode(ck.zip(t)); err == nil || !strings.Contains(err.Error(), "its record holds 8 bytes") {
		t.Errorf("zip: %v", err)
	}
	data := ck.legacy()
	if _, err := Decode(data); err == nil || !strings.Contains(err.Error(), "needs 4398046511104 bytes, 8 remain") {
		t.Errorf("legacy: %v", err)
	}
	// The count before the data disagreeing with the pickle.
	st.numel = 2
	ck.model[0].st = st
	data = ck.legacy()
	data[len(data)-16] = 3
	if _, err := Decode(data); err == nil || !strings.Contains(err.Error(), "3 elements in the file but 2") {
		t.Errorf("legacy count: %v", err)
	}
	// Truncated data.
	data = ck.legacy()
	if _, err := Decode(data[:len(data)-1]); err == nil || !strings.Contains(err.Error(), `truncated file: storage "s" needs 8 bytes, 7 remain`) {
		t.Errorf("legacy truncated: %v", err)
	}
}

func TestStateDictBudget(t *testing.T) {
	// Many entries sharing one storage may not make more values than the
	// file has bytes.
	st := f32Storage("s", make([]float32, 1000)...)
	var model []fakeTensor
	for i := range 200 {
		model = append(model, fakeTensor{name: "t" + string(rune('a'+i%26)) + string(rune('a'+i/26)), st: st, size: []int{1000}, stride: []int{1}})
	}
	_, err := decodeBoth(t, fakeCheckpoint{model: model})
	if err == nil || !strings.Contains(err.Error(), "more values than the file") {
		t.Errorf("error %v", err)
	}
}
