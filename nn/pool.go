package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// A step of training at small widths runs hundreds of parallel regions
// (products, im2col, norms) of tens to hundreds of microseconds each. A
// goroutine started per region waits for an idle thread to be woken, which
// took a median of 100 µs and a tenth of the time over 2.7 ms on this
// 2-core VM beside a training run (go tool trace), so the second core
// mostly joined late or not at all. The pool's workers stay: after a part
// they poll for the next region for workerSpin before sleeping, as
// OpenMP's threads do under PyTorch.

// workerSpin is how long an idle worker polls for work before it sleeps.
const workerSpin = 200 * time.Microsecond

// job is one parallel region: parts calls of f, each taken once by the
// caller or a worker.
type job struct {
	f       func(part int)
	parts   int64
	helpers atomic.Int32 // workers that may still join
	next    atomic.Int64 // the next part to take
	done    atomic.Int64 // parts finished
}

// run takes and runs parts until none is left.
func (j *job) run() {
	for {
		p := j.next.Add(1) - 1
		if p >= j.parts {
			return
		}
		j.f(int(p))
		j.done.Add(1)
	}
}

var pool struct {
	mu      sync.Mutex
	jobs    atomic.Pointer[[]*job] // the regions open to workers; replaced, never changed
	workers int                    // started
	parked  atomic.Int32           // workers asleep on wake
	wake    chan struct{}
}

// runParts calls f(0), ..., f(parts-1), on the caller and up to t-1 of
// the pool's workers, and returns when all have returned. Which goroutine
// runs a part must not matter to its result.
func runParts(t, parts int, f func(part int)) {
	t = min(t, parts)
	if t <= 1 {
		for p := range parts {
			f(p)
		}
		return
	}
	startWorkers(t - 1)
	j := &job{f: f, parts: int64(parts)}
	j.helpers.Store(int32(t - 1))
	openJob(j)
	for range min(int(pool.parked.Load()), t-1) {
		select {
		case pool.wake <- struct{}{}:
		default:
		}
	}
	j.run()
	closeJob(j)
	// The parts that workers took are being finished; meanwhile the
	// caller helps with other regions (a concurrent step's products).
	for j.done.Load() < j.parts {
		if !helpOne() {
			runtime.Gosched()
		}
	}
}

// Concurrently runs the functions at once, on the caller's goroutine and
// the pool's workers (one after another with SetThreads(1)), and returns
// when all have returned. They must not depend on each other.
func Concurrently(fs ...func()) {
	runParts(min(len(fs), Threads()), len(fs), func(p int) { fs[p]() })
}

// startWorkers makes sure that at least n workers run.
func startWorkers(n int) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.wake == nil {
		pool.wake = make(chan struct{}, 64)
	}
	for ; pool.workers < n; pool.workers++ {
		go worker()
	}
}

func openJob(j *job) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	var jobs []*job
	if old := pool.jobs.Load(); old != nil {
		jobs = append(jobs, *old...)
	}
	jobs = append(jobs, j)
	pool.jobs.Store(&jobs)
}

func closeJob(j *job) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	old := *pool.jobs.Load()
	jobs := make([]*job, 0, len(old))
	for _, o := range old {
		if o != j {
			jobs = append(jobs, o)
		}
	}
	pool.jobs.Store(&jobs)
}

// worker helps with open regions, polls for workerSpin after the last,
// then sleeps until a region wakes it.
func worker() {
	idleSince := time.Now()
	for polls := 0; ; polls++ {
		if helpOne() {
			idleSince, polls = time.Now(), 0
			continue
		}
		if polls%64 != 63 {
			runtime.Gosched() // other goroutines may want this thread
			continue
		}
		if time.Since(idleSince) < workerSpin {
			continue
		}
		pool.parked.Add(1)
		if !hasWork() { // a region opened before parked was counted
			<-pool.wake
		}
		pool.parked.Add(-1)
		idleSince = time.Now()
	}
}

// helpOne joins one open region with parts left, if any, and reports
// whether it did.
func helpOne() bool {
	jobs := pool.jobs.Load()
	if jobs == nil {
		return false
	}
	for _, j := range *jobs {
		if j.next.Load() >= j.parts {
			continue
		}
		if j.helpers.Add(-1) < 0 {
			continue // enough goroutines on it
		}
		j.run()
		return true
	}
	return false
}

func hasWork() bool {
	jobs := pool.jobs.Load()
	if jobs == nil {
		return false
	}
	for _, j := range *jobs {
		if j.next.Load() < j.parts && j.helpers.Load() > 0 {
			return true
		}
	}
	return false
}
