package nn

// minParallelWork is the least work, in values read or written, that
// parallelFor gives a goroutine of its own: ~10-30 µs of an elementwise
// loop, against a few µs to start and join one.
const minParallelWork = 1 << 15

// parallelFor runs f over contiguous parts of [0, n), items of about
// perItem values each, on up to Threads() goroutines, the caller's
// included, as many as the work allows by minParallelWork. Callers split
// only where the items are independent (planes, channels, objects), so
// that each is computed as it would be on one goroutine, bit for bit.
func parallelFor(n, perItem int, f func(lo, hi int)) {
	parallel(min(Threads(), n*max(perItem, 1)/minParallelWork), n, f)
}

// parallel runs f over t contiguous parts of [0, n) (fewer when n < t) on
// the caller's goroutine and the pool's.
func parallel(t, n int, f func(lo, hi int)) {
	t = min(t, n)
	if t <= 1 {
		f(0, n)
		return
	}
	runParts(t, t, func(p int) { f(n*p/t, n*(p+1)/t) })
}
