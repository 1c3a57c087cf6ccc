// Command wasmkernel writes web/kernel.wasm, the GEMM tile of nn's
// WebAssembly build in 128-bit SIMD, which the Go compiler does not emit.
// The app's loader instantiates it on the Go module's memory and passes its
// exports to app.wasm as the imports of module sg2im (see nn/gemm_wasm.go).
// web/kernel-mt.wasm is the same code importing a shared memory: the
// threaded engine's helper workers run it on app-mt.wasm's memory (see run
// and nn/par_wasm.go).
//
//	go run ./tools/wasmkernel [-o web/kernel.wasm]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	out := flag.String("o", "web/kernel.wasm", "output file; the threaded variant goes beside it, named -mt.wasm")
	check := flag.Bool("check", false, "fail if the output files differ from what would be written")
	flag.Parse()
	base := strings.TrimSuffix(*out, ".wasm")
	outs := map[string][]byte{
		*out: kernel(false, false), base + "-mt.wasm": kernel(true, false),
		base + "-fma.wasm": kernel(false, true), base + "-fma-mt.wasm": kernel(true, true),
	}
	for name, b := range outs {
		if *check {
			old, err := os.ReadFile(name)
			if err != nil || !bytes.Equal(old, b) {
				fmt.Fprintf(os.Stderr, "%s is stale: run go run ./tools/wasmkernel\n", name)
				os.Exit(1)
			}
			continue
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// Tile shape: 6 rows of A by 8 columns of B (two vectors). Twelve
// accumulators, two B vectors and one broadcast of A take 15 of the 16
// vector registers that V8 has on x86-64 and ARM's 32.
const (
	mr = 6
	nr = 8
)

// kernel returns the module; shared makes its memory import a shared
// memory (kernel-mt.wasm, for the threaded engine: see run); fma makes the
// tiles multiply and add with relaxed SIMD's f32x4.relaxed_madd
// (kernel-fma.wasm, kernel-fma-mt.wasm), which the loader takes where the
// browser has it: one instruction instead of two, fused where the CPU has
// FMA (one rounding instead of two: the sums differ from the portable
// kernel's by a rounding, as the native AVX2 kernel's do).
func kernel(shared, fma bool) []byte {
	t := func(mode int) function { return tile(mode, fma) }
	funcs := []function{t(packedB), t(rowsB), t(directA), winoIn(), winoOut(), t(directRows), epi()}
	// Runs of tiles along B and C: index 7 repeats tile (0), 8 tileA (2).
	funcs = append(funcs, tiles(funcs[0], 0), tiles(funcs[2], 2))
	return module(append(funcs, run(funcs)), shared)
}

// Where tile reads its operands.
const (
	packedB    = iota // A and B packed
	rowsB             // B's rows in place (a convolution's image)
	directA           // A's rows in place (a weight matrix)
	directRows        // both: A's rows and B's rows in place
)

// tile is nn's gemmKernel.tile for mr x nr:
//
//	tile(kc, a, b, c, ldc, alpha, beta)
//
// c[i*ldc+j] = alpha * sum_p a[p*mr+i]*b[p*nr+j] + beta*c[i*ldc+j] (beta = 0:
// c is not read), addresses in bytes, ldc in floats, kc >= 1. Products and
// sums are separate roundings, like Go's generic kernel.
//
// rowsB makes gemmKernel.tileRows, tileRows(kc, a, x, rowOff, c, ldc,
// alpha, beta): row p of B is the nr floats at x + 4*rowOff[p], rowOff
// being a Go []int (64-bit). directA makes gemmKernel.tileA, tileA(kc, a,
// lda, b, c, ldc, alpha, beta): row i of A is the kc floats at a + i*lda
// (lda in bytes). directRows makes tileAR(kc, a, lda, x, rowOff, c, ldc,
// alpha, beta), both at once.
func tile(mode int, fma bool) function {
	f := function{name: [...]string{"tile", "tileRows", "tileA", "tileAR"}[mode]}
	param := func(t byte) int { f.params = append(f.params, t); return len(f.params) - 1 }
	kc, a := param(i32), param(i32)
	inA := mode == directA || mode == directRows // A's rows in place
	inB := mode == rowsB || mode == directRows   // B's rows in place
	var lda, b, x, rowOff int
	if inA {
		lda = param(i32)
	}
	if inB {
		x, rowOff = param(i32), param(i32)
	} else {
		b = param(i32)
	}
	c, ldc, alpha, beta := param(i32), param(i32), param(f32), param(f32)
	// Locals are numbered after the parameters, all declared above.
	local := func(t byte) int { f.locals = append(f.locals, t); return len(f.params) + len(f.locals) - 1 }
	var acc [mr][2]int
	for i := range mr {
		acc[i] = [2]int{local(v128), local(v128)}
	}
	b0, b1, t := local(v128), local(v128), local(v128)
	end, ptr := local(i32), local(i32)
	av, bv := local(v128), local(v128)
	var row [mr]int // directA: row i of A, advancing
	for i := 1; i < mr; i++ {
		row[i] = local(i32)
	}

	e := &f.body
	if inA {
		e.get(a).get(kc).i32c(4).mul().add().set(end)
		for i := 1; i < mr; i++ {
			e.get(a).get(lda).i32c(i).mul().add().set(row[i])
		}
	} else {
		e.get(a).get(kc).i32c(4 * mr).mul().add().set(end)
	}
	e.loop()
	if inB {
		e.get(x).get(rowOff).ldI64(0).wrap().i32c(2).shl().add().set(ptr)
		e.get(rowOff).i32c(8).add().set(rowOff)
	} else {
		e.get(b).set(ptr)
		e.get(b).i32c(4 * nr).add().set(b)
	}
	e.get(ptr).load(0).set(b0)
	e.get(ptr).load(16).set(b1)
	for i := range mr {
		switch {
		case !inA:
			e.get(a).splat32(4 * i)
		case i == 0:
			e.get(a).splat32(0)
		default:
			e.get(row[i]).splat32(0)
		}
		e.tee(t)
		if fma {
			e.get(b0).get(acc[i][0]).madd().set(acc[i][0])
			e.get(t).get(b1).get(acc[i][1]).madd().set(acc[i][1])
			continue
		}
		e.get(b0).fmul().get(acc[i][0]).fadd().set(acc[i][0])
		e.get(t).get(b1).fmul().get(acc[i][1]).fadd().set(acc[i][1])
	}
	if inA {
		e.get(a).i32c(4).add().set(a)
		for i := 1; i < mr; i++ {
			e.get(row[i]).i32c(4).add().set(row[i])
		}
	} else {
		e.get(a).i32c(4 * mr).add().set(a)
	}
	e.get(a).get(end).ltU().brIf(0)
	e.end()

	e.get(alpha).splat().set(av)
	e.get(ldc).i32c(4).mul().set(ldc)
	e.get(beta).f32c(0).f32eq().ifElse()
	for i := range mr {
		for h := range 2 {
			e.get(c).get(acc[i][h]).get(av).fmul().store(16 * h)
		}
		e.get(c).get(ldc).add().set(c)
	}
	e.els()
	e.get(beta).splat().set(bv)
	for i := range mr {
		for h := range 2 {
			e.get(c)
			e.get(acc[i][h]).get(av).fmul()
			e.get(c).load(16 * h).get(bv).fmul()
			e.fadd().store(16 * h)
		}
		e.get(c).get(ldc).add().set(c)
	}
	e.end()
	return f
}

// winoIn is gemmKernel.winoIn for runs of nr tiles, four tiles a vector:
//
//	winoIn(rows, rowLen, oOff, dst, xiStride, srcStep, dstStep, count)
//
// all but count in bytes, count >= 1. Tile t of a run reads rows k = 0..3
// (rowLen apart) at even columns t, t+1 and odd columns oOff+t, oOff+t+1,
// and writes V = B^T d B, value ξ at dst + ξ*xiStride + 4t; each run steps
// rows by srcStep and dst by dstStep. The operations are those of nn's
// winogradInput, in its order.
func winoIn() function {
	const (
		rows, rowLen, oOff, dst, xi, srcStep, dstStep, count = 0, 1, 2, 3, 4, 5, 6, 7
		p                                                    = 8  // p+k: even half of row k
		q                                                    = 12 // q+k: odd half of row k
		r                                                    = 16 // r+k: column j of d B, row k
	)
	f := function{name: "winoIn", params: []byte{i32, i32, i32, i32, i32, i32, i32, i32}}
	f.locals = []byte{i32, i32, i32, i32, i32, i32, i32, i32, v128, v128, v128, v128}
	e := &f.body
	e.loop()
	for k := range 4 {
		e.get(rows).get(rowLen).i32c(k).mul().add().tee(p + k)
		e.get(oOff).add().set(q + k)
	}
	for g := range nr / 4 {
		o := 16 * g
		for j := range 4 {
			for k := range 4 {
				switch j { // r_k[j] of (e0 - e1, o0 + e1, e1 - o0, o0 - o1)
				case 0:
					e.get(p + k).load(o).get(p + k).load(o + 4).fsub()
				case 1:
					e.get(q + k).load(o).get(p + k).load(o + 4).fadd()
				case 2:
					e.get(p + k).load(o + 4).get(q + k).load(o).fsub()
				case 3:
					e.get(q + k).load(o).get(q + k).load(o + 4).fsub()
				}
				e.set(r + k)
			}
			out := func(xiRow int) {
				e.get(dst).get(xi).i32c(4*xiRow + j).mul().add()
			}
			out(0)
			e.get(r + 0).get(r + 2).fsub().store(o)
			out(1)
			e.get(r + 1).get(r + 2).fadd().store(o)
			out(2)
			e.get(r + 2).get(r + 1).fsub().store(o)
			out(3)
			e.get(r + 1).get(r + 3).fsub().store(o)
		}
	}
	e.get(rows).get(srcStep).add().set(rows)
	e.get(dst).get(dstStep).add().set(dst)
	e.get(count).i32c(1).sub().tee(count).brIf(0)
	e.end()
	return f
}

// winoOut is gemmKernel.winoOut, runs of 8 tiles, four tiles a vector:
//
//	winoOut(m, xiStride, out, rowLen, groups, scale, shift, slope, act)
//
// addresses and strides in bytes, groups >= 1. Tile t of a run reads M at
// m + ξ*xiStride + 4t and writes Y = A^T M A, times scale plus shift and,
// when act != 0, LeakyReLU with slope, to out + 8t (row 0) and out + rowLen
// + 8t (row 1). The operations are those of nn's winogradOutput.
func winoOut() function {
	const (
		m, xi, out, rowLen, groups, scale, shift, slope, act = 0, 1, 2, 3, 4, 5, 6, 7, 8
		s                                                    = 9  // s+j
		d                                                    = 13 // d+j
		y                                                    = 17 // y+i
		sv, tv, lv, zero                                     = 21, 22, 23, 24
	)
	f := function{name: "winoOut", params: []byte{i32, i32, i32, i32, i32, f32, f32, f32, i32}}
	for range 16 {
		f.locals = append(f.locals, v128)
	}
	e := &f.body
	e.get(scale).splat().set(sv)
	e.get(shift).splat().set(tv)
	e.get(slope).splat().set(lv)
	e.f32c(0).splat().set(zero)
	// lo and hi interleave the first and last two lanes of two vectors.
	lo := [16]byte{0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23}
	hi := [16]byte{8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31}
	e.loop()
	for g := range 2 {
		o := 16 * g
		mij := func(i, j int) { e.get(m).get(xi).i32c(4*i + j).mul().add().load(o) }
		for j := range 4 {
			mij(0, j)
			mij(1, j)
			e.fadd()
			mij(2, j)
			e.fadd().set(s + j)
			mij(1, j)
			mij(2, j)
			e.fsub()
			mij(3, j)
			e.fsub().set(d + j)
		}
		e.get(s + 0).get(s + 1).fadd().get(s + 2).fadd().set(y + 0)
		e.get(s + 1).get(s + 2).fsub().get(s + 3).fsub().set(y + 1)
		e.get(d + 0).get(d + 1).fadd().get(d + 2).fadd().set(y + 2)
		e.get(d + 1).get(d + 2).fsub().get(d + 3).fsub().set(y + 3)
		for i := range 4 {
			e.get(y + i).get(sv).fmul().get(tv).fadd().set(y + i)
		}
		e.get(act).ifElse()
		for i := range 4 {
			// v < 0 ? v*slope : v
			e.get(y + i).get(lv).fmul().get(y + i).get(y + i).get(zero).flt().bitselect().set(y + i)
		}
		e.end()
		for row := range 2 {
			addr := func() {
				e.get(out)
				if row == 1 {
					e.get(rowLen).add()
				}
			}
			addr()
			e.get(y + 2*row).get(y + 2*row + 1).shuffle(lo).store(2 * o)
			addr()
			e.get(y + 2*row).get(y + 2*row + 1).shuffle(hi).store(2*o + 16)
		}
	}
	e.get(m).i32c(32).add().set(m)
	e.get(out).i32c(64).add().set(out)
	e.get(groups).i32c(1).sub().tee(groups).brIf(0)
	e.end()
	return f
}
