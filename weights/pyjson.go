package weights

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"

	"github.com/nlpodyssey/gopickle/types"
)

// Limits on converting pickled values to JSON: the memo lets a small pickle
// describe a cyclic or exponentially large value, or one long string many
// times over, so the output is bounded in bytes as well as in nodes
// (model_kwargs with a vocabulary takes kilobytes).
const (
	maxJSONDepth = 64
	maxJSONNodes = 1 << 20
	maxJSONBytes = 16 << 20
)

// toJSON converts a pickled Python value (kwargs, args, vocab) to JSON as
// Python's json module would: tuples and sets become arrays, dicts objects
// with stringified keys. NaN and infinities, which JSON lacks, become the
// strings "NaN", "Infinity" and "-Infinity"; objects of unknown classes
// become their dict when they have one, else a string "<module.Name>".
func toJSON(v any) (json.RawMessage, error) {
	e := &jsonEnc{nodes: maxJSONNodes, bytes: maxJSONBytes}
	if err := e.value(v, 0); err != nil {
		return nil, err
	}
	return json.RawMessage(e.buf.Bytes()), nil
}

// jsonEnc writes JSON into buf; nodes and bytes are what it may still
// write, shared with the encoders of set items and keys.
type jsonEnc struct {
	buf   bytes.Buffer
	nodes int
	bytes int
}

func (e *jsonEnc) sub() *jsonEnc { return &jsonEnc{nodes: e.nodes, bytes: e.bytes} }

// adopt takes back the budget left by a sub-encoder.
func (e *jsonEnc) adopt(s *jsonEnc) { e.nodes, e.bytes = s.nodes, s.bytes }

// charge reserves n more bytes of output before they are written.
func (e *jsonEnc) charge(n int) error {
	if e.bytes -= n; e.bytes < 0 {
		return formatErr("corrupt checkpoint: a value converts to more than %d MiB of JSON (a string repeated many times?); model_kwargs and args need far less", maxJSONBytes>>20)
	}
	return nil
}

func (e *jsonEnc) value(v any, depth int) error {
	if e.nodes--; e.nodes < 0 || depth > maxJSONDepth {
		return formatErr("corrupt checkpoint: a value is nested too deeply or is too large to convert")
	}
	if err := e.charge(jsonSize(v)); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
		e.buf.WriteString("null")
	case bool:
		e.buf.WriteString(strconv.FormatBool(x))
	case int:
		e.buf.WriteString(strconv.Itoa(x))
	case *big.Int:
		e.buf.WriteString(x.String())
	case float64:
		e.float(x)
	case string:
		writeJSONString(&e.buf, x)
	case []byte:
		writeJSONString(&e.buf, string(x))
	case *types.ByteArray:
		writeJSONString(&e.buf, string(*x))
	case *types.Tuple:
		return e.array(*x, depth)
	case *types.List:
		return e.array(*x, depth)
	case *types.Set:
		return e.set(slices.Collect(maps.Keys(*x)), depth)
	case *types.FrozenSet:
		return e.set(slices.Collect(maps.Keys(*x)), depth)
	case *pyObject:
		return e.object(x, depth)
	default:
		if d, ok := dictEntries(v); ok {
			return e.dict(d, depth)
		}
		s := "<" + describe(v) + ">" // a class's name may be long
		if err := e.charge(len(s)); err != nil {
			return err
		}
		writeJSONString(&e.buf, s)
	}
	return nil
}

// jsonSize is what a value's own JSON text is charged: strings before they
// are escaped, integers by their digits, 24 bytes (a number's most) for
// anything else, whose parts are charged as they are written. With the node
// limit it bounds the output, whatever the memo shares.
func jsonSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) + 2
	case []byte:
		return len(x) + 2
	case *types.ByteArray:
		return len(*x) + 2
	case *big.Int:
		return x.BitLen()/3 + 2 // digits are at most 0.302 a bit
	}
	return 24
}

func (e *jsonEnc) float(f float64) {
	switch {
	case math.IsNaN(f):
		e.buf.WriteString(`"NaN"`)
	case math.IsInf(f, 1):
		e.buf.WriteString(`"Infinity"`)
	case math.IsInf(f, -1):
		e.buf.WriteString(`"-Infinity"`)
	default:
		b, _ := json.Marshal(f) // finite floats always marshal
		e.buf.Write(b)
	}
}

func (e *jsonEnc) array(items []any, depth int) error {
	e.buf.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		if err := e.value(it, depth+1); err != nil {
			return err
		}
	}
	e.buf.WriteByte(']')
	return nil
}

// set writes a set's items sorted by their JSON, as sets have no order.
func (e *jsonEnc) set(items []any, depth int) error {
	enc := make([]string, 0, len(items))
	for _, it := range items {
		sub := e.sub()
		if err := sub.value(it, depth+1); err != nil {
			return err
		}
		e.adopt(sub)
		if err := e.charge(sub.buf.Len()); err != nil { // written again below
			return err
		}
		enc = append(enc, sub.buf.String())
	}
	slices.Sort(enc)
	e.buf.WriteByte('[')
	for i, s := range enc {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		e.buf.WriteString(s)
	}
	e.buf.WriteByte(']')
	return nil
}

// dict writes entries as an object; a repeated key keeps its first place
// and its last value, as in Python.
func (e *jsonEnc) dict(entries []types.DictEntry, depth int) error {
	keys := make([]string, 0, len(entries))
	vals := make([]any, 0, len(entries))
	at := make(map[string]int, len(entries))
	for _, en := range entries {
		k, err := e.key(en.Key, depth)
		if err != nil {
			return err
		}
		if i, ok := at[k]; ok {
			vals[i] = en.Value
			continue
		}
		at[k] = len(keys)
		keys = append(keys, k)
		vals = append(vals, en.Value)
	}
	e.buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		if err := e.charge(len(k) + 3); err != nil {
			return err
		}
		writeJSONString(&e.buf, k)
		e.buf.WriteByte(':')
		if err := e.value(vals[i], depth+1); err != nil {
			return err
		}
	}
	e.buf.WriteByte('}')
	return nil
}

// key stringifies a dict key as json.dumps does; keys it would reject
// (tuples...) become their JSON text.
func (e *jsonEnc) key(k any, depth int) (string, error) {
	if s, ok := k.(string); ok {
		return s, nil
	}
	sub := e.sub()
	if err := sub.value(k, depth+1); err != nil {
		return "", err
	}
	e.adopt(sub)
	var s string
	if json.Unmarshal(sub.buf.Bytes(), &s) == nil {
		return s, nil // a value that converted to a string
	}
	return sub.buf.String(), nil
}

// object converts an instance of an unknown class by what it holds.
func (e *jsonEnc) object(o *pyObject, depth int) error {
	c := o.class.module + "." + o.class.name
	switch {
	case o.items != nil || c == "collections.defaultdict":
		return e.dict(o.items, depth)
	case o.list != nil:
		return e.array(o.list, depth)
	}
	if d, ok := dictEntries(o.state); ok { // e.g. argparse.Namespace
		return e.dict(d, depth)
	}
	switch c {
	case "__builtin__.set", "__builtin__.frozenset", "builtins.set", "builtins.frozenset",
		"__builtin__.list", "__builtin__.tuple", "builtins.list", "builtins.tuple":
		if len(o.args) == 1 {
			return e.value(o.args[0], depth+1)
		}
		if len(o.args) == 0 {
			e.buf.WriteString("[]")
			return nil
		}
	}
	if err := e.charge(len(c) + 4); err != nil {
		return err
	}
	writeJSONString(&e.buf, "<"+c+">")
	return nil
}
