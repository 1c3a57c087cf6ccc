package weights

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// Limits on what a pickle may ask for. Python itself refuses integers of
// more than 4300 decimal digits; checkpoints nest a few levels deep.
const (
	maxIntText  = 4400 // bytes of an INT or LONG text argument
	maxLongBin  = 2048 // bytes of a LONG1/LONG4 argument
	maxMarkNest = 1024 // MARKs open at once
	// maxPickleAlloc bounds what unpickling may allocate, as estimated by
	// opCost before gopickle runs: a release checkpoint's pickle (loss
	// histories included) needs a fraction of it.
	maxPickleAlloc = 256 << 20
	// maxPickleBytes bounds a zip record's pickle once inflated.
	maxPickleBytes = 64 << 20
)

// opCost is an upper bound on what gopickle allocates for one opcode
// besides copies of its argument: a stack slot (with the slice's growth)
// and the slot or entry it later takes in a list, dict or memo; MARK makes
// a fresh 16-slot stack, and calls build objects.
func opCost(op byte) int {
	switch op {
	case '(':
		return 512
	case 'R', 'b', 'o', 'i', 'c', 'Q', 'P', '\x81', '\x92', '\x93':
		return 512
	case ']', '}', ')', 'l', 'd', 't', '\x8f', '\x91':
		return 384
	case '\x94', 'p', 'q', 'r':
		return 192
	}
	return 128
}

// pickleArg describes an opcode's argument: fixed is its size in bytes;
// counted is the size of a little-endian length prefix of that many more
// bytes; lines is a count of newline-terminated text arguments.
type pickleArg struct{ fixed, counted, lines int8 }

var pickleOps = func() (ops [256]*pickleArg) {
	set := func(codes string, a pickleArg) {
		for _, c := range []byte(codes) {
			ops[c] = &a
		}
	}
	// No argument: MARK STOP POP POP_MARK DUP NONE BINPERSID REDUCE APPEND
	// BUILD DICT EMPTY_DICT APPENDS LIST EMPTY_LIST OBJ SETITEM TUPLE
	// EMPTY_TUPLE SETITEMS, then the protocol 2-5 ones.
	set("(.012NQRab}delo]st)u", pickleArg{})
	set("\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98", pickleArg{})
	set("FILPSVgp", pickleArg{lines: 1}) // text: FLOAT INT LONG PERSID STRING UNICODE GET PUT
	set("ci", pickleArg{lines: 2})       // GLOBAL, INST: module and name
	set("Khq\x80\x82", pickleArg{fixed: 1})
	set("M\x83", pickleArg{fixed: 2})
	set("Jjr\x84", pickleArg{fixed: 4})
	set("G\x95", pickleArg{fixed: 8}) // BINFLOAT, FRAME (its contents are opcodes)
	set("UC\x8c\x8a", pickleArg{counted: 1})
	set("TXB\x8b", pickleArg{counted: 4})
	set("\x8d\x8e\x96", pickleArg{counted: 8})
	return ops
}()

// scanPickle walks the opcodes of the pickle at the start of data, checking
// each argument against the bytes present, and returns the offset just past
// its STOP, and the offsets of any empty LONG1s; messages count bytes from
// base. short says the error is that data ends before the pickle does. gopickle allocates a length before reading it, so nothing reaches
// it unchecked; the memory it would need is estimated opcode by opcode and
// bounded by maxPickleAlloc.
func scanPickle(data []byte, base int) (end int, zeroLongs []int, short bool, err error) {
	marks, cost := 0, 0
	for pos := 0; ; {
		if pos >= len(data) {
			return 0, nil, true, formatErr("truncated pickle: no STOP opcode before the end of the data %s", hintRefetch)
		}
		op, at := data[pos], base+pos
		a := pickleOps[op]
		if a == nil {
			return 0, nil, false, formatErr("corrupt pickle: unknown opcode 0x%02x at byte %d", op, at)
		}
		pos++
		if cost += opCost(op); cost > maxPickleAlloc {
			return 0, nil, false, pickleTooBig(at)
		}
		switch op {
		case '.':
			return pos, zeroLongs, false, nil
		case '(':
			if marks++; marks > maxMarkNest {
				return 0, nil, false, formatErr("corrupt pickle: more than %d nested MARKs", maxMarkNest)
			}
		case 't', 'l', 'd', 'e', 'u', '1', 'o', 'i', '\x90', '\x91':
			marks = max(marks-1, 0)
		case '\x80':
			if pos < len(data) && data[pos] > pickle.HighestProtocol {
				return 0, nil, false, formatErr("unsupported pickle protocol %d", data[pos])
			}
		}
		for range a.lines {
			n := bytes.IndexByte(data[pos:], '\n')
			if n < 0 {
				return 0, nil, true, formatErr("truncated pickle: opcode %q at byte %d has no end of line %s", op, at, hintRefetch)
			}
			if (op == 'I' || op == 'L') && n > maxIntText {
				return 0, nil, false, formatErr("corrupt pickle: integer of %d digits at byte %d", n, at)
			}
			pos += n + 1
			cost += 4 * n // read byte by byte, then copied
		}
		rest := len(data) - pos
		n := int(a.fixed)
		if a.counted > 0 {
			c := int(a.counted)
			if rest < c {
				return 0, nil, true, formatErr("truncated pickle at byte %d %s", base+pos, hintRefetch)
			}
			var size uint64
			switch c {
			case 1:
				size = uint64(data[pos])
			case 4:
				size = uint64(binary.LittleEndian.Uint32(data[pos:]))
				if op == 'T' || op == '\x8b' { // signed lengths
					size = uint64(int64(int32(size)))
				}
			case 8:
				size = binary.LittleEndian.Uint64(data[pos:])
			}
			if size > uint64(rest-c) {
				return 0, nil, true, formatErr("truncated pickle: opcode %q at byte %d needs %d bytes, %d remain %s", op, at, size, rest-c, hintRefetch)
			}
			if (op == '\x8a' || op == '\x8b') && size > maxLongBin {
				return 0, nil, false, formatErr("corrupt pickle: LONG of %d bytes at byte %d", size, at)
			}
			if size == 0 && op == '\x8a' {
				zeroLongs = append(zeroLongs, pos-1)
			} else if size == 0 && op == '\x8b' {
				return 0, nil, false, formatErr("corrupt pickle: empty LONG4 at byte %d", at)
			}
			n = c + int(size)
		}
		if op == '\x95' && rest >= 8 {
			size := binary.LittleEndian.Uint64(data[pos:])
			if size > uint64(rest-8) {
				return 0, nil, true, formatErr("truncated pickle: frame at byte %d is longer than the data %s", at, hintRefetch)
			}
			cost += int(size) // gopickle copies each frame
		}
		if n > len(data)-pos {
			return 0, nil, true, formatErr("truncated pickle at byte %d %s", base+pos, hintRefetch)
		}
		pos += n
		if cost += 2 * n; cost > maxPickleAlloc { // read, then copied into a string
			return 0, nil, false, pickleTooBig(at)
		}
	}
}

func pickleTooBig(at int) error {
	return formatErr("pickle too large: loading it would take more than %d MiB of memory (at byte %d); a checkpoint's pickle needs far less, so the file is corrupt or hostile", maxPickleAlloc>>20, at)
}

// unpickle loads the pickle at the start of data and returns it with the
// number of bytes it took; data starts at byte base of the file.
func unpickle(data []byte, base int, persistentLoad func(any) (any, error)) (v any, n int, err error) {
	v, n, _, err = unpickleShort(data, base, persistentLoad)
	return v, n, err
}

// unpickleShort is unpickle; short says the error is that data ends
// before the pickle does.
func unpickleShort(data []byte, base int, persistentLoad func(any) (any, error)) (v any, n int, short bool, err error) {
	n, zeroLongs, short, err := scanPickle(data, base)
	if err != nil {
		return nil, 0, short, err
	}
	p := data[:n]
	if len(zeroLongs) > 0 {
		// Python 2 pickles 0L as an empty LONG1, which gopickle cannot
		// decode; BININT1 0 is the same value in the same two bytes.
		p = bytes.Clone(p)
		for _, at := range zeroLongs {
			p[at] = 'K'
		}
	}
	// gopickle trusts its input in places (odd item counts, unhashable
	// keys); turn any panic into an error.
	defer func() {
		if r := recover(); r != nil {
			v, n, err = nil, 0, formatErr("corrupt pickle: its objects do not fit together %s", hintNotCheckpoint)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(p))
	u.FindClass = findClass
	u.PersistentLoad = persistentLoad
	if persistentLoad == nil {
		u.PersistentLoad = func(any) (any, error) {
			return nil, formatErr("corrupt checkpoint: unexpected persistent id")
		}
	}
	v, err = u.Load()
	if err != nil {
		if _, ok := err.(*FormatError); !ok {
			err = formatErr("corrupt pickle: %s %s", pickleProblem(err), hintNotCheckpoint)
		}
		return nil, 0, false, err
	}
	return v, n, false, nil
}

// findClass resolves the globals a checkpoint names. Anything unknown
// becomes a pyClass, so that extra entries (optimizer state, loss
// histories) load as inert objects instead of failing the whole file.
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "copyreg._reconstructor":
		return &types.Reconstructor{}, nil
	case "builtins.object":
		return &types.ObjectClass{}, nil
	case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
		return callable(rebuildTensor), nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return callable(rebuildParameter), nil
	case "torch._tensor._rebuild_from_type_v2":
		return callable(rebuildFromType), nil
	case "torch.Size":
		return callable(makeSize), nil
	}
	if (module == "torch" || module == "torch.cuda") && strings.HasSuffix(name, "Storage") {
		return &storageClass{name: module + "." + name, dtype: storageDTypes[name]}, nil
	}
	return &pyClass{module: module, name: name}, nil
}

// callable adapts a function to gopickle's Callable.
type callable func(args ...any) (any, error)

func (f callable) Call(args ...any) (any, error) { return f(args...) }

// pyClass is a Python class the package does not know.
type pyClass struct{ module, name string }

func (c *pyClass) Call(args ...any) (any, error)  { return &pyObject{class: c, args: args}, nil }
func (c *pyClass) PyNew(args ...any) (any, error) { return &pyObject{class: c, args: args}, nil }

// pyObject is an instance of a pyClass: it keeps what the pickle gave it.
type pyObject struct {
	class *pyClass
	args  []any
	state any               // from BUILD
	list  []any             // from APPEND(S), for list subclasses
	items []types.DictEntry // from SETITEM(S), for dict subclasses
}

func (o *pyObject) PySetState(state any) error { o.state = state; return nil }
func (o *pyObject) Append(v any)               { o.list = append(o.list, v) }
func (o *pyObject) Set(k, v any)               { o.items = append(o.items, types.DictEntry{Key: k, Value: v}) }

func makeSize(args ...any) (any, error) {
	if len(args) == 1 {
		if t, ok := args[0].(*types.Tuple); ok {
			return t, nil
		}
	}
	return nil, fmt.Errorf("torch.Size: want one tuple argument")
}

// dictEntries returns the items of a dict-like value in order.
func dictEntries(v any) ([]types.DictEntry, bool) {
	switch d := v.(type) {
	case *types.Dict:
		return *d, true
	case *types.OrderedDict:
		out := make([]types.DictEntry, 0, d.Len())
		for e := d.List.Front(); e != nil; e = e.Next() {
			oe := e.Value.(*types.OrderedDictEntry)
			out = append(out, types.DictEntry{Key: oe.Key, Value: oe.Value})
		}
		return out, true
	case *pyObject:
		return d.items, d.items != nil
	}
	return nil, false
}

// lookup returns the value of the last entry with the string key k.
func lookup(entries []types.DictEntry, k string) (any, bool) {
	var v any
	found := false
	for _, e := range entries {
		if s, ok := e.Key.(string); ok && s == k {
			v, found = e.Value, true
		}
	}
	return v, found
}

// hintNotCheckpoint ends messages about pickles that do not decode.
const hintNotCheckpoint = "(is it a checkpoint saved by the release's train.py or by sg2im?)"

// pickleProblem is the unpickler's message without the values it quotes
// in Go syntax (type names, addresses: "...: &weights.pyObject{...}"),
// which mean nothing to a user; the checks of our own rebuild functions
// ("_rebuild_tensor: bad size ...") stay whole.
func pickleProblem(err error) string {
	msg := err.Error()
	for i := 0; ; {
		j := strings.Index(msg[i:], ": ")
		if j < 0 {
			return msg
		}
		i += j + 2
		if goSyntax.MatchString(msg[i:]) {
			return msg[:i-2]
		}
	}
}

// goSyntax matches the start of a value printed with %#v or %v.
var goSyntax = regexp.MustCompile(`^(&|\*|\[|\{|map\[|<nil>|[A-Za-z0-9_]+\.[A-Za-z0-9_]+[{(])`)
