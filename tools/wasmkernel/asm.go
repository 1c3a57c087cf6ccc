package main

import "math"

// A small WebAssembly binary encoder: just the instructions the kernel
// uses (WebAssembly Core 2.0 and its 128-bit SIMD extension).

// Value types.
const (
	i32  = 0x7f
	f32  = 0x7d
	v128 = 0x7b
)

// code is a function body under construction.
type code struct{ b []byte }

func (c *code) op(b ...byte) *code { c.b = append(c.b, b...); return c }

func (c *code) uleb(v uint64) *code {
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c.b = append(c.b, b|0x80)
			continue
		}
		c.b = append(c.b, b)
		return c
	}
}

func (c *code) sleb(v int64) *code {
	for {
		b := byte(v & 0x7f)
		v >>= 7
		done := (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0)
		if done {
			c.b = append(c.b, b)
			return c
		}
		c.b = append(c.b, b|0x80)
	}
}

func (c *code) get(l int) *code  { return c.op(0x20).uleb(uint64(l)) }
func (c *code) set(l int) *code  { return c.op(0x21).uleb(uint64(l)) }
func (c *code) tee(l int) *code  { return c.op(0x22).uleb(uint64(l)) }
func (c *code) i32c(v int) *code { return c.op(0x41).sleb(int64(v)) }
func (c *code) f32c(v float32) *code {
	u := math.Float32bits(v)
	return c.op(0x43, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
}

func (c *code) add() *code   { return c.op(0x6a) } // i32.add
func (c *code) mul() *code   { return c.op(0x6c) } // i32.mul
func (c *code) ltU() *code   { return c.op(0x49) } // i32.lt_u
func (c *code) f32eq() *code { return c.op(0x5b) }
func (c *code) sub() *code   { return c.op(0x6b) } // i32.sub
func (c *code) shl() *code   { return c.op(0x74) } // i32.shl
func (c *code) wrap() *code  { return c.op(0xa7) } // i32.wrap_i64

func (c *code) geU() *code         { return c.op(0x4f) } // i32.ge_u
func (c *code) and() *code         { return c.op(0x71) } // i32.and
func (c *code) gtU() *code         { return c.op(0x4b) } // i32.gt_u
func (c *code) drop() *code        { return c.op(0x1a) }
func (c *code) i64c(v int64) *code { return c.op(0x42).sleb(v) }

// ld32 and ldF32 are i32.load and f32.load at addr+off.
func (c *code) ld32(off int) *code  { return c.op(0x28).mem(2, off) }
func (c *code) ldF32(off int) *code { return c.op(0x2a).mem(2, off) }

// call calls function index f.
func (c *code) call(f int) *code { return c.op(0x10).uleb(uint64(f)) }

// Atomics (the threads extension, 0xfe prefix), 4-byte aligned:
// i32.atomic.load, i32.atomic.rmw.add, memory.atomic.wait32 (addr,
// expected, i64 timeout in ns, -1 forever; returns 0 woken, 1 not equal, 2
// timed out) and memory.atomic.notify (addr, count; returns the woken).
func (c *code) atomicLoad(off int) *code { return c.op(0xfe).uleb(0x10).mem(2, off) }
func (c *code) atomicAdd(off int) *code  { return c.op(0xfe).uleb(0x1e).mem(2, off) }
func (c *code) wait32(off int) *code     { return c.op(0xfe).uleb(0x01).mem(2, off) }
func (c *code) notify(off int) *code     { return c.op(0xfe).uleb(0x00).mem(2, off) }

// block opens a void block; brTable jumps to labels[i] or def.
func (c *code) block() *code       { return c.op(0x02, 0x40) }
func (c *code) br(depth int) *code { return c.op(0x0c).uleb(uint64(depth)) }
func (c *code) brTable(labels []int, def int) *code {
	c.op(0x0e).uleb(uint64(len(labels)))
	for _, l := range labels {
		c.uleb(uint64(l))
	}
	return c.uleb(uint64(def))
}

// ldI64 is i64.load at addr+off.
func (c *code) ldI64(off int) *code { return c.op(0x29).mem(3, off) }

// Blocks: void block type.
func (c *code) loop() *code          { return c.op(0x03, 0x40) }
func (c *code) ifElse() *code        { return c.op(0x04, 0x40) }
func (c *code) els() *code           { return c.op(0x05) }
func (c *code) end() *code           { return c.op(0x0b) }
func (c *code) brIf(depth int) *code { return c.op(0x0d).uleb(uint64(depth)) }

// simd emits a 0xfd-prefixed instruction.
func (c *code) simd(op uint32) *code { return c.op(0xfd).uleb(uint64(op)) }

// memarg: alignment as a power of two (a hint) and a byte offset.
func (c *code) mem(align, off int) *code { return c.uleb(uint64(align)).uleb(uint64(off)) }

// v128.load and v128.store of 16 bytes at addr+off; v128.load32_splat of 4.
func (c *code) load(off int) *code    { return c.simd(0x00).mem(2, off) }
func (c *code) store(off int) *code   { return c.simd(0x0b).mem(2, off) }
func (c *code) splat32(off int) *code { return c.simd(0x09).mem(2, off) }
func (c *code) splat() *code          { return c.simd(0x13) } // f32x4.splat
func (c *code) fadd() *code           { return c.simd(0xe4) } // f32x4.add
func (c *code) fmul() *code           { return c.simd(0xe6) } // f32x4.mul
func (c *code) fsub() *code           { return c.simd(0xe5) } // f32x4.sub
func (c *code) flt() *code            { return c.simd(0x43) } // f32x4.lt
func (c *code) bitselect() *code      { return c.simd(0x52) } // v128.bitselect

// madd is relaxed SIMD's f32x4.relaxed_madd: a*b + c, fused or not.
func (c *code) madd() *code { return c.simd(0x105) }

// shuffle is i8x16.shuffle of two vectors by 16 byte indices.
func (c *code) shuffle(lanes [16]byte) *code { return c.simd(0x0d).op(lanes[:]...) }

// maxPages is the largest memory of 32-bit WebAssembly, 4 GiB in 64 KiB
// pages.
const maxPages = 65536

// function is one exported function: parameter types and the types of
// its locals beyond the parameters.
type function struct {
	name   string
	params []byte
	locals []byte
	body   code
}

// module encodes a module that imports its memory as env.mem and exports
// the functions. A shared memory is imported with the largest maximum
// (4 GiB), which the engine's memory declares too (tools/wasmshared).
func module(funcs []function, shared bool) []byte {
	var out code
	out.op(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)
	section := func(id byte, content code) {
		out.op(id).uleb(uint64(len(content.b)))
		out.op(content.b...)
	}
	name := func(c *code, s string) { c.uleb(uint64(len(s))).op([]byte(s)...) }

	var types code // one type per function, no results
	types.uleb(uint64(len(funcs)))
	for _, f := range funcs {
		types.op(0x60).uleb(uint64(len(f.params))).op(f.params...).uleb(0)
	}
	section(1, types)

	var imports code
	imports.uleb(1)
	name(&imports, "env")
	name(&imports, "mem")
	if shared {
		imports.op(0x02, 0x03).uleb(0).uleb(maxPages) // shared memory, 0 to maxPages pages
	} else {
		imports.op(0x02, 0x00).uleb(0) // memory, no maximum, at least 0 pages
	}
	section(2, imports)

	var fsec code
	fsec.uleb(uint64(len(funcs)))
	for i := range funcs {
		fsec.uleb(uint64(i))
	}
	section(3, fsec)

	var exports code
	exports.uleb(uint64(len(funcs)))
	for i, f := range funcs {
		name(&exports, f.name)
		exports.op(0x00).uleb(uint64(i))
	}
	section(7, exports)

	var codes code
	codes.uleb(uint64(len(funcs)))
	for _, f := range funcs {
		var body code
		body.uleb(uint64(len(f.locals))) // one group per local: simple
		for _, t := range f.locals {
			body.uleb(1).op(t)
		}
		body.op(f.body.b...).end()
		codes.uleb(uint64(len(body.b))).op(body.b...)
	}
	section(10, codes)
	return out.b
}
