//go:build js && wasm && !purego

package nn

import (
	"math"
	"sync/atomic"
	"unsafe"
)

// The kernel's command lists (web/kernel.wasm's run; layout in
// tools/wasmkernel/run.go). Go's WebAssembly has one thread, so the
// matrix products and Winograd transforms are not called tile by tile:
// Go writes the calls as records into jobs and phases, and the kernel runs
// them, on this thread alone or, when the page is cross-origin isolated,
// beside helper workers that run kernel-mt.wasm on this module's shared
// memory (web/load.js). Each job writes outputs of its own, and each
// output is computed by one job in the same order whatever the number of
// threads: the images are the same bits on one thread or eight.

// parCmd is the command block: its address is given to the loader once,
// and its helpers watch its first word.
type parCmd struct {
	word, phases, barrier, base, ready uint32
	_                                  [3]uint32
	phase                              [maxPhases][4]uint32
}

// maxPhases bounds the phases of one command.
const maxPhases = 8

// recWords is the size of a record in 4-byte words (recordSize).
const recWords = 12

// Function indices of the kernel (the order of tools/wasmkernel's kernel).
const (
	opTile = iota
	opTileRows
	opTileA
	opWinoIn
	opWinoOut
	opTileAR
	opEpi
	opTilesP // runs of tile and tileA: one record a row of tiles
	opTilesA
)

var (
	cmd parCmd
	// parMax is how many threads a command may use: 1 plus the helper
	// workers the loader started (0 until the kernel is in use).
	parMax int
	// parUsed is the most threads a command used since ThreadsUsed.
	parUsed atomic.Int32
)

//go:wasmimport sg2im threads
func wasmThreads(cmd unsafe.Pointer) int32

//go:wasmimport sg2im run
func wasmRun(cmd unsafe.Pointer, threads int32)

// initThreads gives the loader the command block; it starts its helpers
// (none when the memory is not shared) and says how many threads there are.
func initThreads() {
	parMax = max(1, int(wasmThreads(unsafe.Pointer(&cmd))))
}

// KernelThreads reports how many threads the WebAssembly engine's matrix
// products may use: 1 plus the loader's helper workers (1 without them).
func KernelThreads() int { return max(parMax, 1) }

// ThreadsUsed reports the most threads one product used since the last
// call (0: none ran through the kernel's lists), and starts counting anew.
func ThreadsUsed() int { return int(parUsed.Swap(0)) }

// parMinFlops: a command of fewer multiply-adds runs on one thread, since
// waking the helpers and the barriers between phases cost more than they
// save on small layers. Chosen on `make bench-web` (2 cores, quiet): at
// 4M the shipped model drew slower on 2 threads than on 1 (42.2 against
// 30.3 ms a picture), at 32M faster (28.2 against 32.6; coco64 114.5
// against 165.4), at 128M it used one thread. A variable: tests lower it.
var parMinFlops = float64(32 << 20)

// parBatch is a command under construction: records, grouped into jobs,
// grouped into phases.
type parBatch struct {
	recs   []uint32 // recWords per record
	jobs   []uint32 // first and end record of each job, then addresses
	phases []int    // end job of each phase
	start  int      // first record of the open job
}

var batchPool parBatch

// newBatch returns the (only) batch, emptied: commands do not nest.
func newBatch() *parBatch {
	b := &batchPool
	b.recs, b.jobs, b.phases, b.start = b.recs[:0], b.jobs[:0], b.phases[:0], 0
	return b
}

func addr[T any](s []T) uint32 { return uint32(uintptr(unsafe.Pointer(&s[0]))) }

func f32(v float32) uint32 { return math.Float32bits(v) }

// rec appends a record: op and its arguments.
func (b *parBatch) rec(op uint32, args ...uint32) {
	var r [recWords]uint32
	r[0] = op
	copy(r[1:], args)
	b.recs = append(b.recs, r[:]...)
}

// endJob closes the open job (an empty one is dropped).
func (b *parBatch) endJob() {
	n := len(b.recs) / recWords
	if n > b.start {
		b.jobs = append(b.jobs, uint32(b.start), uint32(n))
	}
	b.start = n
}

// endPhase closes the open job and phase.
func (b *parBatch) endPhase() {
	b.endJob()
	b.phases = append(b.phases, len(b.jobs)/2)
}

// run executes the batch on up to threads threads (fewer when the helpers
// are not all started yet, 1 when flops are few) and returns when it is
// done.
func (b *parBatch) run(flops float64) {
	b.endJob()
	if len(b.phases) == 0 || b.phases[len(b.phases)-1] != len(b.jobs)/2 {
		b.phases = append(b.phases, len(b.jobs)/2)
	}
	if len(b.phases) > maxPhases {
		panic("nn: kernel command with too many phases")
	}
	if len(b.recs) == 0 {
		return
	}
	base := addr(b.recs)
	for i := range b.jobs {
		b.jobs[i] = base + b.jobs[i]*4*recWords
	}
	t := 1
	if flops >= parMinFlops {
		t = min(parMax, 1+int(atomic.LoadUint32(&cmd.ready)))
		if n := int(threads.Load()); n > 0 { // SetThreads caps it
			t = min(t, n)
		}
	}
	cmd.phases = uint32(len(b.phases))
	cmd.base = atomic.LoadUint32(&cmd.barrier)
	first := 0
	for p, end := range b.phases {
		jobs := uint32(0)
		if end > first {
			jobs = addr(b.jobs[2*first:])
		}
		cmd.phase[p] = [4]uint32{jobs, uint32(end - first), 0, 0}
		first = end
	}
	wasmRun(unsafe.Pointer(&cmd), int32(t))
	if int32(t) > parUsed.Load() {
		parUsed.Store(int32(t))
	}
}

// parJobs is how many jobs a phase is cut into when it can be: a few per
// thread, so that a thread slowed by other work takes fewer of them.
func parJobs() int { return 4 * max(parMax, 1) }
