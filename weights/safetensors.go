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
	n, err := checkHeaderLen(binary.LittleEndian.Uint64(data), uint64(len(data)))
	if err != nil {
		return nil, err
	}
	buf := data[8+n:]
	l, err := parseLayout(data[8:8+n], uint64(len(buf)))
	if err != nil {
		return nil, err
	}
	f := &File{Metadata: l.metadata, Tensors: make([]Tensor, 0, len(l.spans))}
	for _, s := range l.spans {
		t, err := l.tensor(s)
		if err != nil {
			return nil, err
		}
		decode(t.T.Data, buf[s.begin:s.end], s.e.DType)
		f.Tensors = append(f.Tensors, t)
	}
	return f, nil
}

// checkHeaderLen checks the header length n read from a file of size
// bytes, before the header is read.
func checkHeaderLen(n, size uint64) (uint64, error) {
	if n > size-8 {
		return 0, formatErr("safetensors: truncated file: header needs %d bytes, %d remain %s", n, size-8, hintRefetch)
	}
	if n > maxHeaderBytes {
		return 0, formatErr("safetensors: header of %d bytes, more than the %d allowed", n, maxHeaderBytes)
	}
	return n, nil
}

// stLayout is a checked safetensors header.
type stLayout struct {
	metadata map[string]string
	spans    []stSpan // in data order, tiling the data
}

type stSpan struct {
	name       string
	e          stEntry
	begin, end uint64
}

// parseLayout decodes and checks a header whose tensors' data has
// dataLen bytes.
func parseLayout(header []byte, dataLen uint64) (*stLayout, error) {
	if len(header) < 2 || header[0] != '{' {
		return nil, formatErr("safetensors: header is not a JSON object")
	}
	if k := topLevelEntries(header); k > maxTensors+1 {
		return nil, formatErr("safetensors: header has %d entries, more than the %d tensors allowed", k, maxTensors)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, formatErr("safetensors: bad JSON header: %v", err)
	}
	l := &stLayout{}
	if m, ok := raw["__metadata__"]; ok {
		if k := topLevelEntries(m); k > maxTensors {
			return nil, formatErr("safetensors: __metadata__ has %d entries, more than the %d allowed", k, maxTensors)
		}
		if err := json.Unmarshal(m, &l.metadata); err != nil {
			return nil, formatErr("safetensors: __metadata__ must map strings to strings: %v", err)
		}
		delete(raw, "__metadata__")
	}
	spans := make([]stSpan, 0, len(raw))
	// In name order, so that a bad file always gets the same message.
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		r := raw[name]
		var e stEntry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, formatErr("safetensors: tensor %q: bad entry: %v", name, err)
		}
		if len(e.Offsets) != 2 || e.Offsets[0] > e.Offsets[1] {
			return nil, formatErr("safetensors: tensor %q: data_offsets must be [begin, end] with begin <= end", name)
		}
		if e.Offsets[1] > dataLen {
			return nil, formatErr("safetensors: truncated file: tensor %q ends at byte %d of the data, which has %d %s", name, e.Offsets[1], dataLen, hintRefetch)
		}
		spans = append(spans, stSpan{name, e, e.Offsets[0], e.Offsets[1]})
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
	if at != dataLen {
		return nil, formatErr("safetensors: tensors cover %d bytes but the data has %d (extra bytes at the end)", at, dataLen)
	}
	// Every entry is checked before any tensor is allocated.
	for _, s := range spans {
		if _, err := stShape(s); err != nil {
			return nil, err
		}
	}
	l.spans = spans
	return l, nil
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

// stShape checks an entry's dtype and shape against its bytes.
func stShape(s stSpan) ([]int, error) {
	e, nbytes := s.e, s.end-s.begin
	es := e.DType.size()
	if es == 0 {
		return nil, formatErr("safetensors: tensor %q: unsupported dtype %q (want F32, F64, F16, BF16, an integer type or BOOL)", s.name, e.DType)
	}
	shape := make([]int, len(e.Shape))
	numel := uint64(1)
	for i, d := range e.Shape {
		if d > maxDim {
			return nil, formatErr("safetensors: tensor %q: dimension %d is too large", s.name, d)
		}
		shape[i] = int(d)
		// Saturating past nbytes keeps the product from overflowing; such a
		// shape cannot match the bytes, and a later 0 still gives 0.
		numel = mulSat(numel, d, nbytes+1)
	}
	if numel*uint64(es) != nbytes {
		return nil, formatErr("safetensors: tensor %q: shape %v of %s does not match its %d bytes", s.name, e.Shape, e.DType, nbytes)
	}
	return shape, nil
}

// tensor allocates the tensor of a checked span, its values not yet read.
func (l *stLayout) tensor(s stSpan) (Tensor, error) {
	shape, err := stShape(s)
	if err != nil {
		return Tensor{}, err
	}
	return Tensor{Name: s.name, DType: s.e.DType, T: nn.New(shape...)}, nil
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
