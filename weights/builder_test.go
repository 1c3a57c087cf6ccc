package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// pk writes protocol-2 pickles for tests, opcode by opcode.
type pk struct{ bytes.Buffer }

func (p *pk) op(ops ...byte) *pk { p.Write(ops); return p }

func (p *pk) str(s string) *pk {
	p.WriteByte('X')
	binary.Write(p, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}

func (p *pk) int(n int) *pk {
	if n == int(int32(n)) {
		p.WriteByte('J')
		binary.Write(p, binary.LittleEndian, int32(n))
		return p
	}
	p.op(0x8a, 8) // LONG1 of 8 bytes
	binary.Write(p, binary.LittleEndian, int64(n))
	return p
}

func (p *pk) global(module, name string) *pk {
	p.WriteString("c" + module + "\n" + name + "\n")
	return p
}

func (p *pk) ints(v []int) *pk {
	p.op('(')
	for _, x := range v {
		p.int(x)
	}
	return p.op('t')
}

// fakeStorage is a storage to write: raw little-endian bytes of a class.
type fakeStorage struct {
	key, class string
	data       []byte
	numel      int // elements declared in the pickle
}

func f32Storage(key string, vals ...float32) fakeStorage {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return fakeStorage{key: key, class: "FloatStorage", data: b, numel: len(vals)}
}

// fakeTensor is a state-dict entry to write.
type fakeTensor struct {
	name         string
	st           fakeStorage
	view         []any // legacy (view_key, offset, size), or nil
	offset       int
	size, stride []int
}

// fakeCheckpoint describes a checkpoint dict; a nil kwargs map is left out.
type fakeCheckpoint struct {
	kwargs map[string]int
	model  []fakeTensor
	extra  func(p *pk) // writes more key/value pairs into the dict
}

// pickle writes the checkpoint dict; zip selects 5-tuple persistent ids.
func (c fakeCheckpoint) pickle(zip bool) []byte {
	p := &pk{}
	p.op(0x80, 2, '}', '(')
	if c.kwargs != nil {
		p.str("model_kwargs").op('}', '(')
		for k, v := range c.kwargs {
			p.str(k).int(v)
		}
		p.op('u')
	}
	if c.model != nil {
		p.str("model_state").global("collections", "OrderedDict").op(')', 'R', '(')
		for _, t := range c.model {
			p.str(t.name).global("torch._utils", "_rebuild_tensor_v2").op('(')
			p.op('(').str("storage").global("torch", t.st.class).str(t.st.key).str("cpu").int(t.st.numel)
			if !zip {
				if t.view == nil {
					p.op('N')
				} else {
					p.op('(').str(t.view[0].(string)).int(t.view[1].(int)).int(t.view[2].(int)).op('t')
				}
			}
			p.op('t', 'Q').int(t.offset).ints(t.size).ints(t.stride)
			p.op(0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R')
		}
		p.op('u')
	}
	if c.extra != nil {
		c.extra(p)
	}
	return p.op('u', '.').Bytes()
}

// storages lists the distinct root storages in order of first use.
func (c fakeCheckpoint) storages() []fakeStorage {
	var out []fakeStorage
	seen := map[string]bool{}
	for _, t := range c.model {
		if !seen[t.st.key] {
			seen[t.st.key] = true
			out = append(out, t.st)
		}
	}
	return out
}

// legacy writes c in PyTorch's legacy serialisation.
func (c fakeCheckpoint) legacy() []byte {
	var b bytes.Buffer
	magic := &pk{}
	magic.op(0x80, 2, 0x8a, 10).op(0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).op('.')
	b.Write(magic.Bytes())
	b.Write((&pk{}).op(0x80, 2).int(legacyProtocol).op('.').Bytes())
	b.Write((&pk{}).op(0x80, 2, '}').str("little_endian").op(0x88, 's', '.').Bytes())
	b.Write(c.pickle(false))
	keys := &pk{}
	keys.op(0x80, 2, ']', '(')
	for _, s := range c.storages() {
		keys.str(s.key)
	}
	b.Write(keys.op('e', '.').Bytes())
	for _, s := range c.storages() {
		binary.Write(&b, binary.LittleEndian, uint64(s.numel))
		b.Write(s.data)
	}
	return b.Bytes()
}

// zip writes c in PyTorch's zip serialisation.
func (c fakeCheckpoint) zip(t testing.TB) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	add("data.pkl", c.pickle(true))
	for _, s := range c.storages() {
		add("data/"+s.key, s.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
