package weights

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/sg2im-go/sg2im/internal/memtest"
	"hash/crc32"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// decodeBounded decodes data, wants an error containing want, and wants
// decoding to allocate at most limit bytes.
// The same holds for DecodeFrom, which reads the file a part at a time,
// plus what it reads: at most the file's size.
func decodeBounded(t *testing.T, what string, data []byte, want string, limit uint64) {
	t.Helper()
	for _, how := range []string{"from memory", "through a reader"} {
		if how == "through a reader" {
			limit += uint64(len(data))
		}
		var err error
		n := memtest.Allocated(func() {
			if how == "from memory" {
				_, err = Decode(data)
			} else {
				_, err = DecodeFrom(newFileReader(data), int64(len(data)))
			}
		})
		if _, ok := errors.AsType[*FormatError](err); !ok || !strings.Contains(err.Error(), want) {
			t.Errorf("%s, %s: error %v, want a *FormatError containing %q", what, how, err, want)
		}
		t.Logf("%s (%d bytes), %s: %d MiB allocated; %v", what, len(data), how, n>>20, err)
		if n > limit {
			t.Errorf("%s, %s: decoding a %d-byte file allocated %d MiB, want at most %d MiB", what, how, len(data), n>>20, limit>>20)
		}
	}
}

// pickleOf is a protocol-2 pickle of body, then STOP.
func pickleOf(body ...[]byte) []byte {
	p := []byte{0x80, 2}
	for _, b := range body {
		p = append(p, b...)
	}
	return append(p, '.')
}

func TestHostileRepeatedString(t *testing.T) {
	// args: a list that names one memoised 1 MiB string 100,000 times.
	big := strings.Repeat("x", 1<<20)
	ck := fakeCheckpoint{kwargs: map[string]int{}, model: []fakeTensor{}, extra: func(p *pk) {
		p.str("args").str(big).op('q', 1, '0', ']', '(')
		p.Write(bytes.Repeat([]byte{'h', 1}, 100_000))
		p.op('e')
	}}
	decodeBounded(t, "1 MiB string referenced 100,000 times", ck.legacy(),
		"converts to more than 16 MiB of JSON", 96<<20)
	// The same string as the key of many dicts.
	ck.extra = func(p *pk) {
		p.str("args").str(big).op('q', 1, '0', ']', '(')
		for range 100 {
			p.op('}', 'h', 1, 'K', 1, 's')
		}
		p.op('e')
	}
	decodeBounded(t, "1 MiB dict key repeated", ck.legacy(), "converts to more than 16 MiB of JSON", 96<<20)
	// A 4,900-digit integer, and a class of a 1 MiB name, each named
	// 100,000 times.
	for what, value := range map[string]func(p *pk){
		"big integer": func(p *pk) {
			p.op(0x8b)
			binary.Write(p, binary.LittleEndian, uint32(2000))
			p.Write(bytes.Repeat([]byte{0x7f}, 2000))
		},
		"long class name": func(p *pk) { p.global("m", big) },
	} {
		ck.extra = func(p *pk) {
			p.str("args")
			value(p)
			p.op('q', 1, '0', ']', '(')
			p.Write(bytes.Repeat([]byte{'h', 1}, 100_000))
			p.op('e')
		}
		decodeBounded(t, what+" repeated", ck.legacy(), "converts to more than 16 MiB of JSON", 160<<20)
	}
}

func TestHostileOpcodeFloods(t *testing.T) {
	decodeBounded(t, "10M MEMOIZE", pickleOf([]byte{'N'}, bytes.Repeat([]byte{0x94}, 10_000_000)),
		"pickle too large", 16<<20)
	decodeBounded(t, "list of 20M None", pickleOf([]byte{']', '('}, bytes.Repeat([]byte{'N'}, 20_000_000), []byte{'e'}),
		"pickle too large", 16<<20)
	decodeBounded(t, "2M empty lists", pickleOf([]byte{']', '('}, bytes.Repeat([]byte{']'}, 2_000_000), []byte{'e'}),
		"pickle too large", 16<<20)
}

func TestPickleEstimateHoldsBelowBudget(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("the same code as natively, and minutes of floods under WebAssembly")
	}
	// Floods just under the budget pass the scan; what gopickle then
	// allocates (garbage of growing slices included) stays within twice
	// the estimate, which bounds its peak.
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"list of None", pickleOf([]byte{']', '('}, bytes.Repeat([]byte{'N'}, maxPickleAlloc/128-20), []byte{'e'})},
		{"memo", pickleOf([]byte{'N'}, bytes.Repeat([]byte{0x94}, maxPickleAlloc/192-20))},
		{"empty dicts", pickleOf([]byte{']', '('}, bytes.Repeat([]byte{'}'}, maxPickleAlloc/384-20), []byte{'e'})},
	} {
		var err error
		n := memtest.Allocated(func() { _, _, err = unpickle(tc.data, 0, nil) })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		t.Logf("%s: %d MiB allocated for an estimate of %d MiB", tc.name, n>>20, maxPickleAlloc>>20)
		if n > 2*maxPickleAlloc {
			t.Errorf("%s: %d MiB allocated, more than twice the %d MiB estimate", tc.name, n>>20, maxPickleAlloc>>20)
		}
	}
}

// deflatedZeros is n zero bytes deflated, with their CRC-32.
func deflatedZeros(n int) (data []byte, crc uint32) {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestSpeed)
	zeros := make([]byte, 1<<20)
	for range n >> 20 {
		fw.Write(zeros)
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	fw.Close()
	return b.Bytes(), crc
}

// bombZip is a zip checkpoint whose one tensor views storage "s", the
// deflated record of n zero bytes bomb (with its crc), at offset with the
// given size and stride.
func bombZip(t *testing.T, bomb []byte, crc uint32, n, offset int, size, stride []int) []byte {
	st := fakeStorage{key: "s", class: "FloatStorage", numel: n / 4}
	ck := fakeCheckpoint{kwargs: map[string]int{}, model: []fakeTensor{{name: "w", st: st, offset: offset, size: size, stride: stride}}}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(ck.pickle(true))
	h := &zip.FileHeader{Name: "archive/data/s", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(bomb)), UncompressedSize64: uint64(n)}
	if w, err = zw.CreateRaw(h); err != nil {
		t.Fatal(err)
	}
	w.Write(bomb)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHostileDeflateBomb(t *testing.T) {
	const n = 256 << 20 // 256 MiB of zeros in about 256 KB
	bomb, crc := deflatedZeros(n)
	// One value wanted: only its bytes are inflated.
	data := bombZip(t, bomb, crc, n, 0, []int{1}, []int{1})
	var err error
	var c *Checkpoint
	got := memtest.Allocated(func() { c, err = Decode(data) })
	t.Logf("bomb of %d bytes, one value: %d MiB allocated", len(data), got>>20)
	if err != nil || len(c.Model) != 1 || c.Model[0].T.Data[0] != 0 {
		t.Fatalf("one value of a bomb: %v", err)
	}
	if got > 16<<20 {
		t.Errorf("reading one value of a %d MiB record allocated %d MiB", n>>20, got>>20)
	}
	// Its last value: more inflation than the file can justify.
	decodeBounded(t, "bomb, last value", bombZip(t, bomb, crc, n, n/4-1, []int{1}, []int{1}),
		"a decompression bomb?", 16<<20)
	// Two values far apart: more to hold than the file can.
	decodeBounded(t, "bomb, spread values", bombZip(t, bomb, crc, n, 0, []int{2}, []int{n/4 - 1}),
		"spread its values over more of its storage than the file can hold", 16<<20)
}

func TestHostileLegacyStorageSize(t *testing.T) {
	st := f32Storage("s", 1, 2)
	st.numel = 1 << 62
	ck := fakeCheckpoint{kwargs: map[string]int{}, model: []fakeTensor{{name: "t", st: st, size: []int{1}, stride: []int{1}}}}
	decodeBounded(t, "storage of 2^62 values", ck.legacy(), `storage "s" needs 18446744073709551616 bytes, 8 remain`, 1<<20)
}

func TestHostileSafetensorsHeader(t *testing.T) {
	// Entries past the limit are refused before any is decoded (the CLI
	// test reads a header of 2M).
	h := []byte("{")
	for i := range 100_000 {
		h = append(strconv.AppendInt(append(h, '"'), int64(i), 16), `":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},`...)
	}
	h = append(h, `"e":0}`...)
	decodeBounded(t, "100,000 empty tensors", stFile(string(h), nil), "header has 100001 entries, more than the 65536 tensors allowed", 1<<20)
	md := strings.Replace(string(h), "{", `{"__metadata__":{`, 1) + "}"
	decodeBounded(t, "100,000 metadata entries", stFile(md, nil), "__metadata__ has 100001 entries", 64<<20)
}

func TestDeflatedStorageRanges(t *testing.T) {
	// Tensors read from the middle of a deflated record get their values.
	st := f32Storage("s", 1, 2, 3, 4, 5, 6, 7, 8)
	ck := fakeCheckpoint{kwargs: map[string]int{}, model: []fakeTensor{
		{name: "a", st: st, offset: 3, size: []int{2}, stride: []int{2}},
		{name: "b", st: st, offset: 0, size: []int{2, 2}, stride: []int{1, 4}},
		{name: "c", st: st, offset: 7, size: []int{1}, stride: []int{1}},
	}}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range map[string][]byte{"data.pkl": ck.pickle(true), "data/s": st.data} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.Close()
	c, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{"a": {4, 6}, "b": {1, 5, 2, 6}, "c": {8}}
	for _, x := range c.Model {
		if fmt.Sprint(x.T.Data) != fmt.Sprint(want[x.Name]) {
			t.Errorf("%s: %v, want %v", x.Name, x.T.Data, want[x.Name])
		}
	}
}
