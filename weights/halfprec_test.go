package weights

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Every binary16 and bfloat16 value survives reading (widening to float32)
// and writing (rounding back), bit for bit, NaNs and infinities included.
func TestHalfWidthsRoundTripEveryValue(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		raw := []byte{byte(h), byte(h >> 8)}
		f := []float32{0}
		decode(f, raw, F16) // the reader's own widening
		if back, ok := floatToHalf(f[0]); back != h || !ok {
			t.Fatalf("F16 %#04x: read as %g, written as %#04x (ok %v)", h, f[0], back, ok)
		}
		decode(f, raw, BF16)
		if back, ok := floatToBF16(f[0]); back != h || !ok {
			t.Fatalf("BF16 %#04x: read as %g, written as %#04x (ok %v)", h, f[0], back, ok)
		}
	}
}

func TestHalfRounding(t *testing.T) {
	sub := float32(1.0 / (1 << 24)) // the smallest binary16 subnormal
	for _, tc := range []struct {
		f    float32
		want uint16
		ok   bool
	}{
		{1 + 1.0/(1<<11), 0x3c00, true}, // a tie goes to the even neighbour, 1
		{1 + 3.0/(1<<11), 0x3c02, true}, // and here up to the even one
		{1 + 1.1/(1<<11), 0x3c01, true}, // past the tie: up
		{65504, 0x7bff, true},           // the largest finite
		{65519, 0x7bff, true},           // below the tie with 65536
		{65520, 0x7c00, false},          // the tie rounds to even, infinity: refused
		{sub / 2, 0, true},              // a tie with zero
		{sub * 0.75, 0x0001, true},      // nearer the subnormal
		{sub * 1023.5, 0x0400, true},    // a subnormal rounding into the normals
		{float32(math.Copysign(0, -1)), 0x8000, true},
		{float32(math.Inf(-1)), 0xfc00, true},
		{1e-30, 0, true},
	} {
		if got, ok := floatToHalf(tc.f); got != tc.want || ok != tc.ok {
			t.Errorf("floatToHalf(%g) = %#04x, %v; want %#04x, %v", tc.f, got, ok, tc.want, tc.ok)
		}
	}
	if h, _ := floatToHalf(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN became %#04x", h)
	}
	for _, tc := range []struct {
		f    float32
		want uint16
		ok   bool
	}{
		{1 + 1.0/(1<<8), 0x3f80, true},
		{1 + 3.0/(1<<8), 0x3f82, true},
		{-2.5, 0xc020, true},
		{math.MaxFloat32, 0x7f80, false},
		{float32(math.Inf(1)), 0x7f80, true},
	} {
		if got, ok := floatToBF16(tc.f); got != tc.want || ok != tc.ok {
			t.Errorf("floatToBF16(%g) = %#04x, %v; want %#04x, %v", tc.f, got, ok, tc.want, tc.ok)
		}
	}
}

// For any float32 in range the written value is a nearest one: no other
// value of the type is closer.
func TestHalfRoundingIsNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		f := math.Float32frombits(r.Uint32())
		if math.IsNaN(float64(f)) {
			continue
		}
		if h, ok := floatToHalf(f); ok {
			checkNearest(t, "F16", f, h, halfToFloat)
		}
		if h, ok := floatToBF16(f); ok {
			checkNearest(t, "BF16", f, h, func(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) })
		}
	}
}

func checkNearest(t *testing.T, dt string, f float32, h uint16, widen func(uint16) float32) {
	t.Helper()
	d := math.Abs(float64(widen(h)) - float64(f))
	for _, n := range []uint16{h - 1, h + 1} {
		w := widen(n)
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			continue // past the largest finite value
		}
		if dn := math.Abs(float64(w) - float64(f)); dn < d {
			t.Fatalf("%s: %g written as %g, but %g is nearer", dt, f, widen(h), w)
		}
	}
}

// A checkpoint stored as F16 or BF16 reads back as its values rounded to
// that type, integers untouched, and without discriminators when dropped.
func TestCheckpointStoredNarrow(t *testing.T) {
	c, err := Decode(readTestdata(t, "tiny_linear.legacy.pt"))
	if err != nil {
		t.Fatal(err)
	}
	var full bytes.Buffer
	if err := c.WriteSafetensors(&full); err != nil {
		t.Fatal(err)
	}
	for _, dt := range []DType{F16, BF16} {
		orig, _ := Decode(full.Bytes())
		narrow, _ := Decode(full.Bytes())
		if err := narrow.StoreFloatsAs(dt); err != nil {
			t.Fatal(err)
		}
		narrow.DropDiscriminators()
		var b bytes.Buffer
		if err := narrow.WriteSafetensors(&b); err != nil {
			t.Fatal(err)
		}
		f, err := ReadSafetensors(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range f.Tensors {
			if strings.HasPrefix(x.Name, dImgPrefix) || strings.HasPrefix(x.Name, dObjPrefix) {
				t.Errorf("%s: discriminator tensor %s kept", dt, x.Name)
			}
		}
		back, err := Decode(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if back.DImg != nil || back.DObj != nil || back.DImgKwargs != nil {
			t.Errorf("%s: discriminators read back", dt)
		}
		if len(back.Model) != len(orig.Model) {
			t.Fatalf("%s: %d generator tensors, want %d", dt, len(back.Model), len(orig.Model))
		}
		for i, x := range back.Model {
			o := orig.Model[i]
			if x.DType != o.DType {
				t.Errorf("%s: %s read back as %s, want %s", dt, x.Name, x.DType, o.DType)
			}
			for j, v := range x.T.Data {
				if want := rounded(o.T.Data[j], o.DType, dt); v != want {
					t.Fatalf("%s: %s[%d] = %g, want %g (from %g)", dt, x.Name, j, v, want, o.T.Data[j])
				}
			}
		}
		if got, want := b.Len(), full.Len(); got >= want {
			t.Errorf("%s: %d bytes, not fewer than float32's %d", dt, got, want)
		}
	}
	if err := c.StoreFloatsAs(I64); err == nil {
		t.Errorf("StoreFloatsAs(I64) accepted")
	}
}

// rounded is v as stored in a file of type dt when its tensor was kept as kept.
func rounded(v float32, kept, dt DType) float32 {
	if kept != F32 {
		return v
	}
	if dt == F16 {
		h, _ := floatToHalf(v)
		return halfToFloat(h)
	}
	h, _ := floatToBF16(v)
	return math.Float32frombits(uint32(h) << 16)
}

// Load reads a safetensors file straight into its tensors, and a .pt file
// mapped into memory, its pages dropped as their tensors are decoded: the
// same tensors, and the same errors, as Decode of the file's bytes.
func TestLoadFromFileEqualsDecode(t *testing.T) {
	var inputs [][]byte
	for _, pattern := range []string{"*.safetensors", "*.pt"} {
		files, _ := filepath.Glob(filepath.Join("..", "testdata", pattern))
		if len(files) == 0 {
			t.Fatalf("no %s in testdata", pattern)
		}
		for _, name := range files {
			data := readTestdata(t, filepath.Base(name))
			inputs = append(inputs, data, data[:len(data)-1], data[:9], data[:len(data)/2])
		}
	}
	// Two tensors on one storage of several pages: the second reads pages
	// the first gave back.
	big := make([]float32, 5000)
	for i := range big {
		big[i] = float32(i)
	}
	st := f32Storage("s", big...)
	shared := fakeCheckpoint{kwargs: map[string]int{"a": 1}, model: []fakeTensor{
		{name: "w", st: st, size: []int{50, 100}, stride: []int{100, 1}},
		{name: "v", st: st, offset: 17, size: []int{4000}, stride: []int{1}},
	}}
	inputs = append(inputs, shared.legacy(), shared.zip(t), []byte{},
		stFile(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}`, []byte{0, 0x3c, 1, 0xfc, 0x80, 0x3f}),
		stFile(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}`, []byte{0, 0x3c, 1, 0xfc, 0x80, 0x3f}),
		stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)))
	dir := t.TempDir()
	sharedChecked := false
	for i, data := range inputs {
		path := filepath.Join(dir, fmt.Sprintf("%d.safetensors", i))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		want, werr := Decode(data)
		got, err := Load(path)
		if (err == nil) != (werr == nil) {
			t.Errorf("input %d: Load: %v; Decode: %v", i, err, werr)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), strings.TrimPrefix(werr.Error(), "weights: ")) || !strings.Contains(err.Error(), path) {
				t.Errorf("input %d: Load: %v; Decode: %v", i, err, werr)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("input %d: Load and Decode differ", i)
		}
		if len(got.Model) == 2 && got.Model[1].Name == "v" {
			sharedChecked = true
			if v := got.Model[1].T.Data; v[0] != 17 || v[3999] != 4016 {
				t.Errorf("the second view of a shared storage read %g ... %g", v[0], v[3999])
			}
		}
	}
	if !sharedChecked {
		t.Error("the shared-storage checkpoint did not load")
	}
}
