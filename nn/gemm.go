package nn

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Gemm computes dst = alpha * op(a) * op(b) + beta * dst for row-major
// matrices, op(a) being m x k and op(b) k x n: op(a) is a (m x k, lda) or,
// with transA, the transpose of a (k x m, lda); likewise for b. With beta = 0
// dst is not read. Every matrix product of the package goes through here.
//
// The product is blocked and packed as in BLIS (see gemmBlocking) and
// split over Threads() goroutines; the innermost tile is the fastest
// kernel this CPU and build have (gemmKernels).
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, dst []float32, ldc int) {
	checkMatrix("A", transA, m, k, a, lda)
	checkMatrix("B", transB, k, n, b, ldb)
	checkMatrix("C", false, m, n, dst, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleRows(dst, ldc, m, n, beta)
		return
	}
	kern := activeKernel
	if transB && m <= maxSwapRows && n >= 4*m && kern.tileA != nil {
		gemmSwapped(transA, m, n, k, alpha, a, lda, b, ldb, beta, dst, ldc)
		return
	}
	w := gemmWork{
		kern: kern, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a:   gemmA{data: a, ld: lda, trans: transA},
		b:   gemmB{data: b, ld: ldb, trans: transB},
		dst: dst, ldc: ldc, bl: blocking,
	}
	w.run(Threads())
}

// maxSwapRows bounds the products that gemmSwapped computes transposed: a
// Linear layer over a few objects, x W^T, whose large B^T = W would
// otherwise be packed column by column on every call.
const maxSwapRows = 16

var swapBufs = sync.Pool{New: func() any { return new([]float32) }}

// gemmSwapped computes the product as its transpose, op(B)^T op(A)^T, into
// a scratch n x m matrix, so that the kernel reads B (the weights, n x k)
// in place as its A; then dst = that^T + beta*dst.
func gemmSwapped(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, dst []float32, ldc int) {
	bufp := swapBufs.Get().(*[]float32)
	defer swapBufs.Put(bufp)
	*bufp = grow(*bufp, n*m)
	t := *bufp
	w := gemmWork{
		kern: activeKernel, m: n, n: m, k: k, alpha: alpha,
		a:   gemmA{data: b, ld: ldb},
		b:   gemmB{data: a, ld: lda, trans: !transA},
		dst: t, ldc: m, bl: blocking,
	}
	w.run(Threads())
	for i := 0; i < m; i++ {
		row := dst[i*ldc : i*ldc+n]
		col := t[i:]
		for j := range row {
			v := col[j*m]
			if beta != 0 {
				v += beta * row[j]
			}
			row[j] = v
		}
	}
}

// checkMatrix panics unless data holds a rows x cols matrix (cols x rows
// when trans) with leading dimension ld.
func checkMatrix(name string, trans bool, rows, cols int, data []float32, ld int) {
	if trans {
		rows, cols = cols, rows
	}
	if rows < 0 || cols < 0 {
		panic("nn: Gemm: negative dimension")
	}
	if rows == 0 || cols == 0 {
		return // nothing is read or written, whatever ld is
	}
	if ld < cols {
		panic(fmt.Sprintf("nn: Gemm: bad leading dimension %d of %s (%d x %d)", ld, name, rows, cols))
	}
	if len(data) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("nn: Gemm: %s has %d values, too few for %d x %d with leading dimension %d", name, len(data), rows, cols, ld))
	}
}

// scaleRows sets dst = beta * dst over an m x n matrix; beta = 0 writes
// zeros without reading dst (so NaN there does not survive, as in BLAS).
func scaleRows(dst []float32, ldc, m, n int, beta float32) {
	for i := 0; i < m; i++ {
		row := dst[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// threads is the SetThreads setting; 0 means runtime.GOMAXPROCS.
var threads atomic.Int32

// SetThreads sets how many goroutines one matrix product may use; n < 1
// restores the default, runtime.GOMAXPROCS(0) at the time of each product.
func SetThreads(n int) {
	if n < 1 {
		n = 0
	}
	threads.Store(int32(n))
}

// Threads reports how many goroutines a matrix product uses.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// gemmKernel is an innermost tile: tile computes the mr x nr block
// dst = alpha * acc + beta * dst (beta = 0: dst is not read), acc being the
// product of a packed kc x mr micro-panel of A (a[p*mr+i]) and a packed
// kc x nr micro-panel of B (b[p*nr+j]), kc >= 1.
//
// tileRows, when not nil, does the same reading row p of the B micro-panel
// in place at x[rowOff[p]:][:nr], so that a convolution needs no packed B
// (see convSource). rowOff must be non-decreasing.
//
// tileA, when not nil, does what tile does reading the mr rows of A in
// place, a[i*lda:][:kc], so that A need not be packed.
type gemmKernel struct {
	name     string
	mr, nr   int
	tile     func(kc int, a, b, dst []float32, ldc int, alpha, beta float32)
	tileRows func(kc int, a, x []float32, rowOff []int, dst []float32, ldc int, alpha, beta float32)
	tileA    func(kc int, a []float32, lda int, b, dst []float32, ldc int, alpha, beta float32)

	// winoIn and winoOut, when not nil, are the Winograd transforms of
	// winograd.go, in floats: winoIn transforms count runs of nr tiles,
	// each from four padded rows rowLen apart (even columns, then odd ones
	// from oOff) to nr values xiStride apart per ξ, stepping srcStep and
	// dstStep per run; winoOut writes groups runs of 8 tiles, from m
	// (xiStride per ξ) to two output rows rowLen apart, applying
	// y*scale + shift and, with act, LeakyReLU.
	winoIn  func(rows []float32, rowLen, oOff int, dst []float32, xiStride, srcStep, dstStep, count int)
	winoOut func(m []float32, xiStride int, out []float32, rowLen, groups int, scale, shift, slope float32, act bool)
	// winoInRows, when not nil, is winoIn for rows of nr/2 tiles: each run
	// of nr tiles is two tile rows, the second two padded rows on.
	winoInRows func(rows []float32, rowLen, oOff int, dst []float32, xiStride, srcStep, dstStep, count int)

	// winoMinPixels is the least OutH*OutW that a 3x3 convolution needs
	// to take Winograd with this kernel (see winograd.go); 0: never.
	// winoMinPixelsFresh, when set, is the least for filters transformed
	// on every call rather than kept (a tape's, changed every step).
	winoMinPixels, winoMinPixelsFresh int

	// list, when not nil, computes a product through the kernel's command
	// lists (WebAssembly: nn/par_gemm_wasm.go), reporting whether it could;
	// winoList does winogradBlock's work for all the blocks of an image.
	list     func(w *gemmWork) bool
	winoList func(buf *winogradBuf, out, x, u []float32, s ConvShape, fPad int, kern *gemmKernel, scale, shift []float32, slope float32, act bool)
}

// gemmKernels lists the kernels usable on this CPU and build, the portable
// one first; activeKernel is the last (fastest) of them.
var (
	gemmKernels  = []*gemmKernel{&genericKernel}
	activeKernel = &genericKernel
)

// GemmKernel names the tile kernel that Gemm uses: "avx2" (amd64 with AVX2
// and FMA, unless built with -tags purego) or "generic".
func GemmKernel() string { return activeKernel.name }

func addKernel(k *gemmKernel) {
	gemmKernels = append(gemmKernels, k)
	activeKernel = k
}

// gemmBlocking sizes the loop nest of gemmWork.block, tuned on a 2-core
// AMD EPYC VM (32 KiB L1d, 512 KiB L2 per core, 32 MiB L3):
//
//	for each block of mc rows (and ka of the k dimension): pack A
//	  for each block of nc columns: the mc x nc block of dst stays in L2
//	    for each kc step: pack a kc x nc block of B (unless packed whole)
//	      tiles: an mr x kc micro-panel of A (6 KiB) stays in L1 while
//	      the kc x nr micro-panels of B stream from L2
//
// A is packed in panels that span ka columns (all of k unless it is huge),
// reading each row of A from start to end; mc is as large as blockA
// allows, so that B is packed or read as few times as possible. When
// packed B (k x n) holds at most wholeB values it is packed once up front.
// A convolution's B is mostly read in place (gemmKernel.tileRows) and
// never packed; the weight-bound products (1024 filters over 4 x 4
// pixels) read A in place instead (gemmKernel.tileA, see directA).
//
// Blocks of columns are cut to whole panels of the kernel's nr.
type gemmBlocking struct {
	kc, nc, mc int
	blockA     int // values of packed A per block of rows
	wholeB     int // largest packed B that is packed up front
}

// blocking is read when a product starts; tests shrink it to reach every
// edge of the loop nest with small matrices.
var blocking = gemmBlocking{kc: 256, nc: 128, mc: 192, blockA: 1 << 21, wholeB: 1 << 20}

// minParallelFlops: below ~1 MFLOP (tens of microseconds) a product runs
// on one goroutine, since starting and joining others costs microseconds.
const minParallelFlops = 1 << 20

// gemmA is op(A) as the packer reads it.
type gemmA struct {
	data  []float32
	ld    int
	trans bool
}

// gemmB is op(B): a matrix, or the im2col view of an image (conv != nil).
type gemmB struct {
	data  []float32
	ld    int
	trans bool
	conv  *convSource
}

// gemmWork is one product, dst = alpha*op(A)*op(B) + beta*dst, followed by
// an optional per-row epilogue.
type gemmWork struct {
	kern        *gemmKernel
	m, n, k     int
	alpha, beta float32
	a           gemmA
	b           gemmB
	dst         []float32
	ldc         int
	epi         *Epilogue
	bl          gemmBlocking
	// imgCols, when not 0, says that dst holds a batch of images: column j
	// of the product is pixel j%imgCols of image j/imgCols, whose m x
	// imgCols block starts at dst[(j/imgCols)*m*imgCols] (row stride ldc =
	// imgCols). Tiles never straddle images (nr divides imgCols).
	imgCols int
	// packedB, when not nil, is all of op(B) packed up front (see
	// shareB), which blocks spanning every column read instead of packing
	// their own copy.
	packedB []float32
}

// dstOff is the offset in dst of element (i, j) of the product.
func (w *gemmWork) dstOff(i, j int) int {
	if w.imgCols == 0 {
		return i*w.ldc + j
	}
	return (j/w.imgCols)*w.m*w.imgCols + i*w.ldc + j%w.imgCols
}

// Epilogue post-processes row i of a finished product:
// dst[i][j] = act(dst[i][j]*Scale[i] + Shift[i]), act being LeakyReLU with
// Slope when Act is set (Slope 0 is ReLU). Nil Scale or Shift mean 1 and 0.
// This is a convolution's bias and eval-mode batch norm folded together.
type Epilogue struct {
	Scale, Shift []float32
	Act          bool
	Slope        float32
}

// gemmBuf holds one goroutine's packed blocks and a partial tile.
type gemmBuf struct {
	a, b []float32
	tile [16 * 16]float32 // every kernel's mr and nr are at most 16
}

var gemmBufs = sync.Pool{New: func() any { return new(gemmBuf) }}

// run splits the product into parts along whichever of m and n has more
// tiles and computes them on t goroutines, the caller's and the pool's
// (runParts), each taking the next part when done with one: on a machine shared with
// other work a core that falls behind then takes fewer parts instead of
// holding up the product.
func (w *gemmWork) run(t int) {
	if w.kern.list != nil && w.kern.list(w) {
		return
	}
	mr, nr := w.kern.mr, w.kern.nr
	tilesM, tilesN := (w.m+mr-1)/mr, (w.n+nr-1)/nr
	if float64(w.m)*float64(w.n)*float64(w.k)*2 < minParallelFlops {
		t = 1
	}
	alongN := tilesN >= tilesM
	tiles, unit, size := tilesM, mr, w.m
	if alongN {
		tiles, unit, size = tilesN, nr, w.n
	}
	t = min(t, tiles)
	if t <= 1 {
		w.block(0, w.m, 0, w.n)
		return
	}
	parts := min(tiles, partsPerThread*t)
	if !alongN {
		defer w.shareB()()
	}
	runParts(t, parts, func(part int) {
		lo := min(size, tiles*part/parts*unit)
		hi := min(size, tiles*(part+1)/parts*unit)
		if alongN {
			w.block(0, w.m, lo, hi)
		} else {
			w.block(lo, hi, 0, w.n)
		}
	})
}

var packedBufs = sync.Pool{New: func() any { return new([]float32) }}

// shareB packs B once for all the parts of a product split by rows, when
// each part would pack all of it (block's wholeB): a weight gradient's
// dY^T of 8192 pixels was packed six times, 14% of a training step at the
// demo's widths. It returns the function releasing the buffer.
func (w *gemmWork) shareB() (release func()) {
	nr := w.kern.nr
	nPad := (w.n + nr - 1) / nr * nr
	if nPad*w.k > w.bl.wholeB {
		return func() {}
	}
	bufp := packedBufs.Get().(*[]float32)
	*bufp = grow(*bufp, nPad*w.k)
	w.packB(*bufp, 0, w.k, 0, w.n)
	w.packedB = *bufp
	return func() { w.packedB = nil; packedBufs.Put(bufp) }
}

// partsPerThread: a product is cut into this many parts per goroutine, so
// that the parts balance when cores run at different speeds; more parts
// would repack more of the shared operand.
const partsPerThread = 3

// block computes rows [i0, i1) and columns [j0, j1) of the product on the
// calling goroutine, with the loop nest of gemmBlocking.
func (w *gemmWork) block(i0, i1, j0, j1 int) {
	buf := gemmBufs.Get().(*gemmBuf)
	defer gemmBufs.Put(buf)
	mr, nr, bl, k := w.kern.mr, w.kern.nr, w.bl, w.k
	mPad := (i1 - i0 + mr - 1) / mr * mr
	nPad := (j1 - j0 + nr - 1) / nr * nr

	// Rows per block of A, and columns of k per block when k is huge.
	mc := min(mPad, max(mr, bl.mc/mr*mr, bl.blockA/k/mr*mr))
	ka := max(bl.kc, bl.blockA/mc/bl.kc*bl.kc)
	direct := w.directA()
	if direct {
		ka = k
	} else {
		buf.a = grow(buf.a, mc*min(k, ka))
	}

	nc := max(nr, bl.nc/nr*nr) // whole panels per block of columns
	wholeB := nPad*k <= bl.wholeB
	var packed []float32 // this block's packed B, when wholeB
	switch {
	case wholeB && w.packedB != nil && j0 == 0 && j1 == w.n:
		packed = w.packedB
	case wholeB:
		buf.b = grow(buf.b, nPad*k)
		packed = buf.b
		w.packB(packed, 0, k, j0, j1-j0)
	default:
		buf.b = grow(buf.b, bl.kc*nc)
	}
	for ic := i0; ic < i1; ic += mc {
		mcur := min(mc, i1-ic)
		for pa := 0; pa < k; pa += ka {
			kcur := min(ka, k-pa)
			if !direct {
				w.packA(buf.a, ic, mcur, pa, kcur)
			}
			for jc := j0; jc < j1; jc += nc {
				ncur := min(nc, j1-jc)
				for pc := pa; pc < pa+kcur; pc += bl.kc {
					kc := min(bl.kc, pa+kcur-pc)
					var ap panels // nil data: A is read in place
					if !direct {
						ap = panels{buf.a[(pc-pa)*mr:], mr * kcur}
					}
					var bp panels
					if wholeB {
						bp = panels{packed[(jc-j0)*k+pc*nr:], nr * k}
					} else {
						w.packB(buf.b, pc, kc, jc, ncur)
						bp = panels{buf.b, nr * kc}
					}
					w.tiles(buf, ap, bp, ic, mcur, jc, ncur, pc, kc)
				}
			}
		}
	}
}

// directA reports whether the tiles read A in place (gemmKernel.tileA)
// rather than packed: A must be stored row by row, hold at least one full
// tile of rows, and B must not be a convolution that the kernel reads in
// place (there is no kernel for both).
func (w *gemmWork) directA() bool {
	if w.kern.tileA == nil || w.a.trans || w.m < w.kern.mr {
		return false
	}
	return w.b.conv == nil || w.kern.tileRows == nil || !w.b.conv.hasRuns(w.kern.nr)
}

// panels locates packed micro-panels: panel q's first kc-step starts at
// data[q*step].
type panels struct {
	data []float32
	step int
}

// tiles computes the kc-step pc of the mc x nc block of dst at (ic, jc),
// tile by tile, from packed micro-panels of A and B, and runs the epilogue
// after the last step.
func (w *gemmWork) tiles(buf *gemmBuf, ap, bp panels, ic, mc, jc, nc, pc, kc int) {
	t := tileStep{buf: buf, ap: ap, bp: bp, ic: ic, mc: mc, jc: jc, nc: nc, pc: pc, kc: kc}
	mr, nr := w.kern.mr, w.kern.nr
	// Row panels outside: an mr x kc micro-panel of A (6 KiB) stays in L1
	// while the micro-panels of B stream from L2, which measured faster
	// than the opposite order (96 against 79 GFLOP/s for the AVX2 tile on
	// one core).
	for ir := 0; ir < mc; ir += mr {
		for jr := 0; jr < nc; jr += nr {
			w.tile(&t, ir, jr)
		}
	}
}

// tileStep is one kc-step over a block of tiles (see tiles).
type tileStep struct {
	buf                    *gemmBuf
	ap, bp                 panels
	ic, mc, jc, nc, pc, kc int
}

// tile computes the tile at (ir, jr) of the block.
func (w *gemmWork) tile(t *tileStep, ir, jr int) {
	mr, nr := w.kern.mr, w.kern.nr
	kc, pc := t.kc, t.pc
	beta := w.beta
	if pc > 0 {
		beta = 1
	}
	mi, nj := min(mr, t.mc-ir), min(nr, t.nc-jr)
	var amp []float32
	shift := 0 // rows of a partial tile computed above it
	if t.ap.data != nil {
		amp = t.ap.data[ir/mr*t.ap.step:][:kc*mr]
	} else {
		// A in place: a partial last tile starts mr-mi rows higher, so
		// that it reads only rows of A (directA asks m >= mr).
		if mi < mr {
			shift = mr - mi
		}
		amp = w.a.data[(t.ic+ir-shift)*w.a.ld+pc:]
	}
	off := w.dstOff(t.ic+ir, t.jc+jr)
	d, ldd, bt := w.dst[off:], w.ldc, beta
	partial := mi < mr || nj < nr
	if partial {
		d, ldd, bt = t.buf.tile[:mr*nr], nr, 0
	}
	// B read in place when it can be: row p is x[rowOff[p]:][:nr].
	src := w.b.conv
	var x []float32
	if src != nil && w.kern.tileRows != nil && nj == nr && t.ap.data != nil {
		x = src.run(t.jc+jr, nr)
	}
	switch {
	case x != nil:
		w.kern.tileRows(kc, amp, x, src.rowOff[pc:pc+kc], d, ldd, w.alpha, bt)
	case t.ap.data == nil:
		w.kern.tileA(kc, amp, w.a.ld, t.bp.data[jr/nr*t.bp.step:][:kc*nr], d, ldd, w.alpha, bt)
	default:
		w.kern.tile(kc, amp, t.bp.data[jr/nr*t.bp.step:][:kc*nr], d, ldd, w.alpha, bt)
	}
	if partial {
		mergeTile(w.dst[off:], w.ldc, t.buf.tile[shift*nr:], nr, mi, nj, beta)
	}
	if pc+kc == w.k && w.epi != nil {
		w.epi.apply(w.dst[off:], w.ldc, t.ic+ir, mi, nj)
	}
}

// mergeTile sets the mi x nj corner of dst to tile + beta*dst.
func mergeTile(dst []float32, ldc int, tile []float32, ldt, mi, nj int, beta float32) {
	for i := 0; i < mi; i++ {
		d := dst[i*ldc : i*ldc+nj]
		s := tile[i*ldt : i*ldt+nj]
		if beta == 0 {
			copy(d, s)
			continue
		}
		for j := range d {
			d[j] = s[j] + beta*d[j]
		}
	}
}

// apply runs the epilogue on the mi x nj tile at dst whose first row is
// row i0 of the product.
func (e *Epilogue) apply(dst []float32, ldc, i0, mi, nj int) {
	for i := 0; i < mi; i++ {
		scale, shift := float32(1), float32(0)
		if e.Scale != nil {
			scale = e.Scale[i0+i]
		}
		if e.Shift != nil {
			shift = e.Shift[i0+i]
		}
		row := dst[i*ldc : i*ldc+nj]
		if !e.Act {
			for j, v := range row {
				row[j] = v*scale + shift
			}
			continue
		}
		// Branch-free LeakyReLU: the sign bit picks the factor (random
		// signs made a branch mispredict half the time).
		factor := [2]float32{1, e.Slope}
		for j, v := range row {
			v = v*scale + shift
			row[j] = v * factor[math.Float32bits(v)>>31]
		}
	}
}

// packA copies rows [i0, i0+mc) and columns [p0, p0+kc) of op(A) into
// micro-panels of mr rows: panel q holds dst[q*mr*kc + p*mr + i]. Rows
// past the end are zeros.
func (w *gemmWork) packA(dst []float32, i0, mc, p0, kc int) {
	mr, a := w.kern.mr, w.a
	for ip := 0; ip < mc; ip += mr {
		panel := dst[ip*kc : (ip+mr)*kc]
		rows := min(mr, mc-ip)
		if rows < mr {
			clear(panel)
		}
		if a.trans { // op(A)[i][p] = a[p*ld+i]
			for p := 0; p < kc; p++ {
				copy(panel[p*mr:p*mr+rows], a.data[(p0+p)*a.ld+i0+ip:])
			}
			continue
		}
		row := func(r int) []float32 { return a.data[(i0+ip+r)*a.ld+p0:][:kc] }
		switch {
		case mr == 6 && rows == 6:
			pack6(panel, row(0), row(1), row(2), row(3), row(4), row(5))
		case mr == 2 && rows == 2:
			pack2(panel, row(0), row(1))
		default:
			for r := 0; r < rows; r++ {
				d := panel[r:]
				for p, v := range row(r) {
					d[p*mr] = v
				}
			}
		}
	}
}

// pack6 interleaves six rows of A into a micro-panel, reading the rows
// side by side so that the writes are sequential.
func pack6(dst, r0, r1, r2, r3, r4, r5 []float32) {
	n := len(r0)
	r1, r2, r3, r4, r5 = r1[:n], r2[:n], r3[:n], r4[:n], r5[:n]
	dst = dst[:6*n]
	for p := range n {
		d := dst[6*p : 6*p+6 : 6*p+6]
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// pack2 is pack6 for two rows.
func pack2(dst, r0, r1 []float32) {
	n := len(r0)
	r1 = r1[:n]
	dst = dst[:2*n]
	for p := range n {
		d := dst[2*p : 2*p+2 : 2*p+2]
		d[0], d[1] = r0[p], r1[p]
	}
}

// packB copies rows [p0, p0+kc) and columns [j0, j0+nc) of op(B) into
// micro-panels of nr columns: panel q holds dst[q*nr*kc + p*nr + j].
// Columns past the end are zeros.
func (w *gemmWork) packB(dst []float32, p0, kc, j0, nc int) {
	nr, b := w.kern.nr, w.b
	if b.conv != nil {
		b.conv.pack(dst, nr, p0, kc, j0, nc, w.kern.tileRows != nil)
		return
	}
	for jp := 0; jp < nc; jp += nr {
		panel := dst[jp*kc : (jp+nr)*kc]
		cols := min(nr, nc-jp)
		if cols < nr {
			clear(panel)
		}
		if b.trans { // op(B)[p][j] = b[j*ld+p]
			for c := 0; c < cols; c++ {
				src := b.data[(j0+jp+c)*b.ld+p0:][:kc]
				d := panel[c:]
				for p, v := range src {
					d[p*nr] = v
				}
			}
			continue
		}
		if nr == 16 && cols == 16 {
			for p := 0; p < kc; p++ {
				copy16(panel[p*16:], b.data[(p0+p)*b.ld+j0+jp:])
			}
			continue
		}
		for p := 0; p < kc; p++ {
			copy(panel[p*nr:p*nr+cols], b.data[(p0+p)*b.ld+j0+jp:])
		}
	}
}

// copy16 copies 16 values element by element: copy would call memmove,
// whose call costs more than the copy at this size.
func copy16(dst, src []float32) {
	d, s := dst[:16:16], src[:16:16]
	d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15] = s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]
}
