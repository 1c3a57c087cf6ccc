package main

// epi is the epilogue of a finished mr x nr tile (nn's Epilogue.apply):
//
//	epi(c, ldc, scale, shift, slope, act)
//
// c[i*ldc+j] = c[i*ldc+j]*scale[i] + shift[i], then, when act != 0,
// LeakyReLU with slope; ldc in floats, scale and shift addresses of mr
// floats. The operations are Epilogue.apply's, in its order.
func epi() function {
	const (
		c, ldc, scale, shift, slope, act = 0, 1, 2, 3, 4, 5
		sv, tv, lv, zero, v              = 6, 7, 8, 9, 10
	)
	f := function{name: "epi", params: []byte{i32, i32, i32, i32, f32, i32}, locals: []byte{v128, v128, v128, v128, v128}}
	e := &f.body
	e.get(slope).splat().set(lv)
	e.f32c(0).splat().set(zero)
	e.get(ldc).i32c(4).mul().set(ldc)
	for i := range mr {
		e.get(scale).ldF32(4 * i).splat().set(sv)
		e.get(shift).ldF32(4 * i).splat().set(tv)
		for h := range 2 {
			e.get(c).load(16 * h).get(sv).fmul().get(tv).fadd().set(v)
			e.get(act).ifElse()
			e.get(v).get(lv).fmul().get(v).get(v).get(zero).flt().bitselect().set(v)
			e.end()
			e.get(c).get(v).store(16 * h)
		}
		e.get(c).get(ldc).add().set(c)
	}
	return f
}

// tiles calls tile function fn (index f: tile or tileA) count times,
// stepping its b and c arguments by bStep and cStep bytes: a row of tiles
// in one record. Its parameters are fn's, b followed by bStep and c by
// cStep, then count (>= 1):
//
//	tilesP(kc, a, b, bStep, c, cStep, ldc, alpha, beta, count)
//	tilesA(kc, a, lda, b, bStep, c, cStep, ldc, alpha, beta, count)
func tiles(fn function, f int) function {
	name := map[string]string{"tile": "tilesP", "tileA": "tilesA"}[fn.name]
	out := function{name: name}
	var args []int // fn's arguments among out's parameters
	var b, bStep, c, cStep int
	for i, t := range fn.params {
		args = append(args, len(out.params))
		out.params = append(out.params, t)
		switch {
		case i == 2 && name == "tilesP", i == 3 && name == "tilesA": // b
			b, bStep = len(out.params)-1, len(out.params)
			out.params = append(out.params, i32)
		case i == 3 && name == "tilesP", i == 4 && name == "tilesA": // c
			c, cStep = len(out.params)-1, len(out.params)
			out.params = append(out.params, i32)
		}
	}
	count := len(out.params)
	out.params = append(out.params, i32)
	e := &out.body
	e.loop()
	for _, a := range args {
		e.get(a)
	}
	e.call(f)
	e.get(b).get(bStep).add().set(b)
	e.get(c).get(cStep).add().set(c)
	e.get(count).i32c(1).sub().tee(count).brIf(0)
	e.end()
	return out
}

// Layout of run's command (byte offsets, 4-byte words), a fixed block of
// the engine's memory (nn/par_wasm.go writes it, web/load.js starts it):
//
//	0 generation << 8 | threads T (stored last, atomically, by the loader)
//	4 phases P, 8 barrier count (only ever grows), 12 its value at the start
//	16 helpers ready (each helper worker adds 1 when it starts waiting)
//	32+16p: phase p: jobs address, job count, next job (starts at 0)
//	job: first record's address, end address
//	record (recordSize bytes): function index, then its arguments
const (
	cmdWord, cmdPhases, cmdBarrier, cmdBase, cmdPhase0 = 0, 4, 8, 12, 32
	phaseSize                                          = 16
	recordSize                                         = 48
)

// run executes a command on one thread of T:
//
//	run(cmd, thread)
//
// Phase by phase, each thread takes the phase's next job (an atomic
// counter) until none is left, runs its records (calls of the kernel's
// functions, by index, with the arguments stored after it), and waits at a
// barrier for the T threads before the next phase, and after the last, so
// that run returns once the whole command is done. A job's output is its
// own: which thread runs it changes nothing in the result. The barrier
// count only grows (a late helper leaving the last barrier of a command
// still sees it passed); with T = 1 no atomic wait is made (it traps on an
// unshared memory).
func run(funcs []function) function {
	const (
		cmd, thread                        = 0, 1
		nt, np, p, ph, job, r, end, target = 2, 3, 4, 5, 6, 7, 8, 9
		v                                  = 10
	)
	f := function{name: "run", params: []byte{i32, i32}, locals: []byte{i32, i32, i32, i32, i32, i32, i32, i32, i32}}
	e := &f.body
	e.get(cmd).ld32(cmdWord).i32c(255).and().set(nt)
	e.get(cmd).ld32(cmdPhases).set(np)
	e.block().loop() // phases
	e.get(p).get(np).geU().brIf(1)
	e.get(cmd).get(p).i32c(phaseSize).mul().add().i32c(cmdPhase0).add().set(ph)
	e.block().loop() // jobs
	e.get(ph).i32c(1).atomicAdd(8).tee(job)
	e.get(ph).ld32(4).geU().brIf(1)
	e.get(ph).ld32(0).get(job).i32c(8).mul().add().tee(job).ld32(0).set(r)
	e.get(job).ld32(4).set(end)
	e.block().loop() // records
	e.get(r).get(end).geU().brIf(1)
	dispatch(e, funcs, r)
	e.get(r).i32c(recordSize).add().set(r)
	e.br(0)
	e.end().end()
	e.br(0)
	e.end().end()
	// Barrier: the T-th arrival wakes the others.
	e.get(nt).i32c(1).gtU().ifElse()
	e.get(cmd).ld32(cmdBase).get(nt).get(p).i32c(1).add().mul().add().set(target)
	e.get(cmd).i32c(1).atomicAdd(cmdBarrier).i32c(1).add().get(target).geU().ifElse()
	e.get(cmd).get(nt).notify(cmdBarrier).drop()
	e.els()
	e.block().loop()
	e.get(cmd).atomicLoad(cmdBarrier).tee(v).get(target).geU().brIf(1)
	e.get(cmd).get(v).i64c(-1).wait32(cmdBarrier).drop()
	e.br(0)
	e.end().end()
	e.end()
	e.end()
	e.get(p).i32c(1).add().set(p)
	e.br(0)
	e.end().end()
	return f
}

// dispatch calls the function whose index is the first word of record r
// with the arguments that follow it (a br_table over one block per
// function); an unknown index does nothing.
func dispatch(e *code, funcs []function, r int) {
	n := len(funcs)
	e.block() // the end
	for range n {
		e.block()
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i
	}
	e.get(r).ld32(0).brTable(labels, n)
	for i, fn := range funcs {
		e.end()
		for a, t := range fn.params {
			e.get(r)
			if t == f32 {
				e.ldF32(4 + 4*a)
			} else {
				e.ld32(4 + 4*a)
			}
		}
		e.call(i).br(n - 1 - i)
	}
	e.end()
}
