// Package memtest measures what a function allocates, for the tests that
// bound the memory a hostile file can make the program take.
package memtest

import "runtime"

// Allocated runs f and returns the bytes it allocated (runtime.MemStats'
// TotalAlloc, every allocation counted, garbage included): an upper bound on
// the memory f held at its peak that no collector timing can make flaky.
// Tests that use it do not run in parallel.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
