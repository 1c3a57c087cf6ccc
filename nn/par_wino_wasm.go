//go:build js && wasm && !purego

package nn

import "runtime"

// parWinoMax bounds the V and M of one Winograd command (floats): the
// blocks of an image are taken in groups that fit.
const parWinoMax = 1 << 22

// winoBlockShape is one block of tile rows [ty0, ty1) and where its V and
// M start in the group's buffer.
type winoBlockShape struct {
	ty0, ty1, tPad, v, m, vStride, mStride int
}

// winogradList is conv2dWinograd's loop over the blocks of one image as
// kernel commands, each over a group of blocks in three phases: the input
// transforms (jobs of channels), the 16 products of each block (a job per
// block and ξ), the output transforms (jobs of filters). It computes what
// winogradBlock computes, call for call. A group holds a block per thread
// (one on one thread: V and M stay in cache between the phases, as in
// winogradBlock), within parWinoMax.
func winogradList(buf *winogradBuf, out, x, u []float32, s ConvShape, fPad int, kern *gemmKernel, scale, shift []float32, slope float32, act bool) {
	nr := kern.nr
	n := s.W / 2
	rows := max(1, winogradTiles/n)
	var group []winoBlockShape
	size := 0
	flush := func() {
		if len(group) == 0 {
			return
		}
		buf.v = grow(buf.v, size)
		winogradGroup(buf.v, group, out, x, u, s, fPad, kern, scale, shift, slope, act)
		group, size = group[:0], 0
	}
	for ty0 := 0; ty0 < s.H/2; ty0 += rows {
		ty1 := min(s.H/2, ty0+rows)
		tPad := (ty1 - ty0) * n / nr * nr
		b := winoBlockShape{ty0: ty0, ty1: ty1, tPad: tPad, vStride: s.C*tPad + winogradSkew, mStride: fPad*tPad + winogradSkew}
		need := 16 * (b.vStride + b.mStride)
		if len(group) > 0 && (size+need > parWinoMax || len(group) >= parMax) {
			flush()
		}
		b.v, b.m = size, size+16*b.vStride
		size += need
		group = append(group, b)
	}
	flush()
}

// winogradGroup runs one command over the blocks of group, whose V and M
// are in vm.
func winogradGroup(vm []float32, group []winoBlockShape, out, x, u []float32, s ConvShape, fPad int, kern *gemmKernel, scale, shift []float32, slope float32, act bool) {
	mr, nr := kern.mr, kern.nr
	n := s.W / 2
	rowLen := s.W + 2
	plane := (s.H + 2) * rowLen
	b := newBatch()
	// Input transforms: jobs of channels, about parJobs in all.
	per := max(1, (s.C*len(group)+parJobs()-1)/parJobs())
	for _, g := range group {
		v := vm[g.v:]
		for c0 := 0; c0 < s.C; c0 += per {
			for c := c0; c < min(s.C, c0+per); c++ {
				for ty := g.ty0; ty < g.ty1; ty++ {
					rows := x[c*plane+2*ty*rowLen:]
					d := v[((ty-g.ty0)*n/nr*s.C+c)*nr:]
					checkWinoIn(rows, rowLen, n+1, d, g.vStride, nr, nr*s.C, n/nr)
					b.rec(opWinoIn, addr(rows), uint32(4*rowLen), uint32(4*(n+1)), addr(d), uint32(4*g.vStride),
						uint32(4*nr), uint32(4*nr*s.C), uint32(n/nr))
				}
			}
			b.endJob()
		}
	}
	b.endPhase()
	// Products: M[ξ] = U[ξ] V[ξ], a job per block and ξ.
	kc := blocking.kc
	flops := 0.0
	for _, g := range group {
		panels := g.tPad / nr
		flops += 2 * 16 * float64(fPad) * float64(g.tPad) * float64(s.C)
		for xi := 0; xi < 16; xi++ {
			ux := u[xi*fPad*s.C:][:fPad*s.C]
			vx := vm[g.v+xi*g.vStride:][:s.C*g.tPad]
			mx := vm[g.m+xi*g.mStride:][:fPad*g.tPad]
			for pc := 0; pc < s.C; pc += kc {
				k := min(kc, s.C-pc)
				beta := float32(0)
				if pc > 0 {
					beta = 1
				}
				for q := 0; q < fPad/mr; q++ {
					// The row of panels tiles, first and last checked.
					a := ux[q*mr*s.C+pc*mr:][:mr*k]
					bp := vx[pc*nr:][:nr*k]
					_ = vx[(panels-1)*nr*s.C+pc*nr:][:nr*k]
					c := mx[q*mr*g.tPad:]
					checkTileC(c[(panels-1)*nr:], g.tPad)
					b.rec(opTilesP, uint32(k), addr(a), addr(bp), uint32(4*nr*s.C), addr(c), uint32(4*nr),
						uint32(g.tPad), f32(1), f32(beta), uint32(panels))
				}
			}
			b.endJob()
		}
	}
	b.endPhase()
	// Output transforms: jobs of filters.
	per = max(1, (s.F*len(group)+parJobs()-1)/parJobs())
	a := uint32(0)
	if act {
		a = 1
	}
	for _, g := range group {
		for f0 := 0; f0 < s.F; f0 += per {
			for f := f0; f < min(s.F, f0+per); f++ {
				for ty := g.ty0; ty < g.ty1; ty++ {
					mrow := vm[g.m+f*g.tPad+(ty-g.ty0)*n:]
					orow := out[(f*s.H+2*ty)*s.W:][:2*s.W]
					checkWinoOut(mrow, g.mStride, orow, s.W, n/8)
					b.rec(opWinoOut, addr(mrow), uint32(4*g.mStride), addr(orow), uint32(4*s.W), uint32(n/8),
						f32(scale[f]), f32(shift[f]), f32(slope), a)
				}
			}
			b.endJob()
		}
	}
	b.run(flops)
	runtime.KeepAlive(vm)
	runtime.KeepAlive(x)
	runtime.KeepAlive(u)
	runtime.KeepAlive(out)
}

func checkWinoIn(rows []float32, rowLen, oOff int, dst []float32, xiStride, srcStep, dstStep, count int) {
	if count < 1 || oOff < 9 || len(rows) < (count-1)*srcStep+3*rowLen+oOff+9 ||
		len(dst) < 15*xiStride+(count-1)*dstStep+8 {
		panic("nn: winoIn: operands too short")
	}
}

func checkWinoOut(m []float32, xiStride int, out []float32, rowLen, groups int) {
	if groups < 1 || len(m) < 15*xiStride+8*groups || rowLen < 16*groups || len(out) < rowLen+16*groups {
		panic("nn: winoOut: operands too short")
	}
}
