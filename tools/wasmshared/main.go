// Command wasmshared writes the threaded engine's variant of a Go
// WebAssembly binary: its memory, which Go's linker defines in the module,
// becomes an import (sg2im.mem) of a shared memory with the largest
// maximum, so that helper workers can run web/kernel-mt.wasm on it (see
// web/load.js and nn/par_wasm.go). Nothing else changes: Go's code and
// data are the same bytes, and its export "mem" is the imported memory.
// A custom section "sg2im.mem" holds the memory's initial size in pages
// (4 bytes, little-endian), which the loader reads to create the memory.
//
//	go run ./tools/wasmshared in.wasm out.wasm
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: wasmshared in.wasm out.wasm")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err == nil {
		var out []byte
		out, err = shared(in)
		if err == nil {
			err = os.WriteFile(os.Args[2], out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "wasmshared: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// maxPages is 4 GiB, the most a 32-bit memory can hold; it must equal
// the maximum that kernel-mt.wasm's import declares (tools/wasmkernel).
const maxPages = 65536

// Section ids.
const (
	secCustom = 0
	secImport = 2
	secMemory = 5
)

type section struct {
	id   byte
	body []byte
}

// shared rewrites module b as the package comment says.
func shared(b []byte) ([]byte, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" || binary.LittleEndian.Uint32(b[4:8]) != 1 {
		return nil, errors.New("not a WebAssembly 1.0 module")
	}
	var secs []section
	for rest := b[8:]; len(rest) > 0; {
		id := rest[0]
		size, n := uleb(rest[1:])
		if n == 0 || uint64(len(rest)-1-n) < size {
			return nil, errors.New("truncated section")
		}
		secs = append(secs, section{id, rest[1+n : 1+n+int(size)]})
		rest = rest[1+n+int(size):]
	}
	minPages := -1
	var out []section
	for _, s := range secs {
		if s.id != secMemory {
			out = append(out, s)
			continue
		}
		count, n := uleb(s.body)
		if count != 1 || n == 0 || len(s.body) < n+2 || s.body[n]&^1 != 0 {
			return nil, errors.New("the memory section does not define exactly one 32-bit memory")
		}
		m, k := uleb(s.body[n+1:])
		if k == 0 || m > maxPages {
			return nil, errors.New("bad memory limits")
		}
		minPages = int(m)
	}
	if minPages < 0 {
		return nil, errors.New("no memory section (already rewritten?)")
	}
	found := false
	for i, s := range out {
		if s.id != secImport {
			continue
		}
		count, n := uleb(s.body)
		var body []byte
		body = appendUleb(body, count+1)
		body = append(body, s.body[n:]...)
		body = appendName(body, "sg2im")
		body = appendName(body, "mem")
		body = append(body, 0x02, 0x03) // memory, shared, with a maximum
		body = appendUleb(body, uint64(minPages))
		body = appendUleb(body, maxPages)
		out[i].body = body
		found = true
	}
	if !found {
		return nil, errors.New("no import section")
	}
	custom := appendName(nil, "sg2im.mem")
	custom = binary.LittleEndian.AppendUint32(custom, uint32(minPages))
	out = append(out, section{secCustom, custom})

	res := append([]byte(nil), b[:8]...)
	for _, s := range out {
		res = append(res, s.id)
		res = appendUleb(res, uint64(len(s.body)))
		res = append(res, s.body...)
	}
	return res, nil
}

// uleb decodes an unsigned LEB128 number; n is 0 when b ends first.
func uleb(b []byte) (v uint64, n int) {
	for i, c := range b {
		if i == 10 {
			return 0, 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

func appendUleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	return append(appendUleb(b, uint64(len(s))), s...)
}
