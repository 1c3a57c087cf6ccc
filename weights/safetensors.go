package weights

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/sg2im-go/sg2im/nn"
)

// File is a parsed safetensors file.
type File struct {
	Metadata map[string]string
	Tensors  []Tensor // in file (offset) order
}

// Get returns the tensor called name, or nil when f has none.
func (f *File) Get(name string) *Tensor {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i]
		}
	}
	return nil
}

// maxDim bounds each dimension so that shapes fit an int everywhere.
const maxDim = math.MaxInt32

// Limits on a safetensors header, checked before it is decoded: each entry
// costs about a kilobyte of bookkeeping whatever its tensor's size. The
// reference implementation also refuses headers over 100 MB.
const (
	maxHeaderBytes = 100_000_000
	maxTensors     = 1 << 16
)

type stEntry struct {
	DType   DType    `json:"dtype"`
	Shape   []uint64 `json:"shape"`
	Offsets []uint64 `json:"data_offsets"`
}

// ReadSafetensors parses a safetensors file: an 8-byte little-endian header
// length, a JSON header, then the tensors' bytes. Like the reference
// implementation it requires the tensors to tile the data exactly.
func ReadSafetensors(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, formatErr("safetensors: file is %d bytes, too short for a header %s", len(data), hintRefetch)
	}
	n := binary.LittleEndian.Uint64(data)
	if n > uint64(len(data)-8) {
		return nil, formatErr("safetensors: truncated file: header needs %d bytes, %d remain %s", n, len(data)-8, hintRefetch)
	}
	header, buf := data[8:8+n], data[8+n:]
	if n < 2 || header[0] != '{' {
		return nil, formatErr("safetensors: header is not a JSON object")
	}
	if n > maxHeaderBytes {
		return nil, formatErr("safetensors: header of %d bytes, more than the %d allowed", n, maxHeaderBytes)
	}
	if k := topLevelEntries(header); k > maxTensors+1 {
		return nil, formatErr("safetensors: header has %d entries, more than the %d tensors allowed", k, maxTensors)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, formatErr("safetensors: bad JSON header: %v", err)
	}
	f := &File{}
	if m, ok := raw["__metadata__"]; ok {
		if k := topLevelEntries(m); k > maxTensors {
			return nil, formatErr("safetensors: __metadata__ has %d entries, more than the %d allowed", k, maxTensors)
		}
		if err := json.Unmarshal(m, &f.Metadata); err != nil {
			return nil, formatErr("safetensors: __metadata__ must map strings to strings: %v", err)
		}
		delete(raw, "__metadata__")
	}
	type span struct {
		name       string
		e          stEntry
		begin, end uint64
	}
	spans := make([]span, 0, len(raw))
	for name, r := range raw {
		var e stEntry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, formatErr("safetensors: tensor %q: bad entry: %v", name, err)
		}
		if len(e.Offsets) != 2 || e.Offsets[0] > e.Offsets[1] {
			return nil, formatErr("safetensors: tensor %q: data_offsets must be [begin, end] with begin <= end", name)
		}
		if e.Offsets[1] > uint64(len(buf)) {
			return nil, formatErr("safetensors: truncated file: tensor %q ends at byte %d of the data, which has %d %s", name, e.Offsets[1], len(buf), hintRefetch)
		}
		spans = append(spans, span{name, e, e.Offsets[0], e.Offsets[1]})
	}
	sort.Slice(spans, func(i, j int) bool {
		a, b := spans[i], spans[j]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		if a.end != b.end {
			return a.end < b.end
		}
		return a.name < b.name
	})
	var at uint64
	for _, s := range spans {
		if s.begin != at {
			return nil, formatErr("safetensors: tensor %q: data_offsets [%d, %d] overlap or leave a gap (previous data ends at %d)", s.name, s.begin, s.end, at)
		}
		at = s.end
	}
	if at != uint64(len(buf)) {
		return nil, formatErr("safetensors: tensors cover %d bytes but the data has %d (extra bytes at the end)", at, len(buf))
	}
	f.Tensors = make([]Tensor, 0, len(spans))
	for _, s := range spans {
		t, err := stTensor(s.name, s.e, buf[s.begin:s.end])
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
	}
	return f, nil
}

// topLevelEntries counts the colons outside strings at depth 1 of a JSON
// object: its number of keys when it is valid JSON, found without
// decoding anything.
func topLevelEntries(b []byte) int {
	n, depth, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr:
			esc, inStr = c == '\\', c != '"'
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ':' && depth == 1:
			n++
		}
	}
	return n
}

// stTensor decodes one entry whose bytes are b.
func stTensor(name string, e stEntry, b []byte) (Tensor, error) {
	es := e.DType.size()
	if es == 0 {
		return Tensor{}, formatErr("safetensors: tensor %q: unsupported dtype %q (want F32, F64, F16, BF16, an integer type or BOOL)", name, e.DType)
	}
	shape := make([]int, len(e.Shape))
	numel := uint64(1)
	for i, d := range e.Shape {
		if d > maxDim {
			return Tensor{}, formatErr("safetensors: tensor %q: dimension %d is too large", name, d)
		}
		shape[i] = int(d)
		// Saturating past len(b) keeps the product from overflowing; such a
		// shape cannot match the bytes, and a later 0 still gives 0.
		numel = mulSat(numel, d, uint64(len(b))+1)
	}
	if numel*uint64(es) != uint64(len(b)) {
		return Tensor{}, formatErr("safetensors: tensor %q: shape %v of %s does not match its %d bytes", name, e.Shape, e.DType, len(b))
	}
	t := nn.New(shape...)
	decode(t.Data, b, e.DType)
	return Tensor{Name: name, DType: e.DType, T: t}, nil
}

// WriteSafetensors writes tensors, in order, as a safetensors file with the
// given metadata. Tensors must be F32, F16, BF16 or I64 (an empty DType
// means F32): F16 and BF16 values are rounded to nearest (ties to even), so
// values read from such a file are written back bit for bit; I64 values are
// rounded to integers.
func WriteSafetensors(w io.Writer, metadata map[string]string, tensors []Tensor) error {
	var h bytes.Buffer
	h.WriteByte('{')
	if len(metadata) > 0 {
		h.WriteString(`"__metadata__":{`)
		for i, k := range slices.Sorted(maps.Keys(metadata)) {
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSONString(&h, k)
			h.WriteByte(':')
			writeJSONString(&h, metadata[k])
		}
		h.WriteByte('}')
	}
	seen := make(map[string]bool, len(tensors))
	var off uint64
	for i, t := range tensors {
		if err := checkWritable(t, seen); err != nil {
			return err
		}
		if i > 0 || len(metadata) > 0 {
			h.WriteByte(',')
		}
		dt := writeDType(t.DType)
		end := off + uint64(len(t.T.Data)*dt.size())
		writeJSONString(&h, t.Name)
		fmt.Fprintf(&h, `:{"dtype":%q,"shape":[`, dt)
		for j, d := range t.T.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			fmt.Fprint(&h, d)
		}
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	h.WriteByte('}')
	// Pad with spaces so that the data starts 8-byte aligned, as the
	// reference writer does.
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(h.Len()))
	bw.Write(n[:])
	bw.Write(h.Bytes())
	for _, t := range tensors {
		writeValues(bw, t.T.Data, writeDType(t.DType))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("weights: writing safetensors: %w", err)
	}
	return nil
}

// writeValues encodes values as d, which checkWritable has allowed.
func writeValues(bw *bufio.Writer, values []float32, d DType) {
	var b [8]byte
	le := binary.LittleEndian
	for _, v := range values {
		switch d {
		case I64:
			le.PutUint64(b[:], uint64(int64(math.Round(float64(v)))))
			bw.Write(b[:8])
		case F16:
			h, _ := floatToHalf(v)
			le.PutUint16(b[:], h)
			bw.Write(b[:2])
		case BF16:
			h, _ := floatToBF16(v)
			le.PutUint16(b[:], h)
			bw.Write(b[:2])
		default:
			le.PutUint32(b[:], math.Float32bits(v))
			bw.Write(b[:4])
		}
	}
}

func writeDType(d DType) DType {
	if d == "" {
		return F32
	}
	return d
}

// checkWritable rejects what WriteSafetensors cannot write or readers
// would reject; seen collects the names written so far.
func checkWritable(t Tensor, seen map[string]bool) error {
	switch {
	case t.Name == "" || t.Name == "__metadata__":
		return fmt.Errorf("weights: writing safetensors: invalid tensor name %q", t.Name)
	case seen[t.Name]:
		return fmt.Errorf("weights: writing safetensors: duplicate tensor name %q", t.Name)
	case t.T == nil:
		return fmt.Errorf("weights: writing safetensors: tensor %q is nil", t.Name)
	}
	seen[t.Name] = true
	d := writeDType(t.DType)
	if d != F32 && d != F16 && d != BF16 && d != I64 {
		return fmt.Errorf("weights: writing safetensors: tensor %q: cannot write dtype %s (only F32, F16, BF16 and I64)", t.Name, d)
	}
	if err := checkRange(t, d); err != nil {
		return err
	}
	n := 1
	for _, d := range t.T.Shape {
		if d < 0 {
			return fmt.Errorf("weights: writing safetensors: tensor %q: negative dimension in shape %v", t.Name, t.T.Shape)
		}
		n *= d
	}
	if n != len(t.T.Data) {
		return fmt.Errorf("weights: writing safetensors: tensor %q: shape %v does not match its %d values", t.Name, t.T.Shape, len(t.T.Data))
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	j, _ := json.Marshal(s) // a string always marshals
	b.Write(j)
}

// checkRange refuses a finite value that d cannot hold: written, it would
// become an infinity and the image a blank.
func checkRange(t Tensor, d DType) error {
	var narrow func(float32) (uint16, bool)
	switch d {
	case F16:
		narrow = floatToHalf
	case BF16:
		narrow = floatToBF16
	default:
		return nil
	}
	for i, v := range t.T.Data {
		if _, ok := narrow(v); !ok {
			return fmt.Errorf("weights: writing safetensors: tensor %q: value %g (element %d) is beyond the range of %s; write it as F32 (or BF16, which has float32's range)", t.Name, v, i, d)
		}
	}
	return nil
}
