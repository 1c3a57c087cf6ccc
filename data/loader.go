package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
)

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("data: loader is closed")

// permSalt separates the permutation streams from the example streams of
// one seed (the 64-bit golden ratio, an arbitrary odd constant).
const permSalt = 0x9e3779b97f4a7c15

// Loader draws shuffled batches from a dataset in background goroutines,
// like the release's DataLoader(shuffle=True): each epoch is a fresh
// permutation cut into batches in order, the last batch of an epoch
// holding what is left (drop_last=False). Batches come out in the same
// order with the same contents for a seed whatever the number of workers:
// epoch e's permutation and the randomness of the example at position p
// of epoch e each have their own PCG stream derived from (seed, e, p).
type Loader struct {
	ds        Dataset
	batchSize int
	seed      uint64
	err       error

	pending chan chan batchResult // result slots in batch order
	jobs    chan loaderJob
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

type loaderJob struct {
	epoch, first int
	idx          []int // dataset indices of the batch
	out          chan batchResult
}

type batchResult struct {
	b   *TrainBatch
	err error
}

// NewLoader starts workers goroutines (at least 1) that build batches of
// batchSize examples, keeping up to 2*workers batches ready. Call Close to
// stop them.
func NewLoader(ds Dataset, batchSize int, seed uint64, workers int) *Loader {
	return NewLoaderAt(ds, batchSize, seed, workers, 0)
}

// NewLoaderAt is NewLoader resumed after start batches: its first batch is
// the one a NewLoader of the same dataset, batch size and seed hands out
// as its batch number start (counting from 0, across epochs), and so on,
// without building the batches before it. Training resumes with it.
func NewLoaderAt(ds Dataset, batchSize int, seed uint64, workers, start int) *Loader {
	workers = max(workers, 1)
	l := &Loader{ds: ds, batchSize: batchSize, seed: seed, done: make(chan struct{})}
	switch {
	case batchSize < 1:
		l.err = fmt.Errorf("data: batch size %d; want at least 1", batchSize)
	case ds.Len() == 0:
		l.err = errors.New("data: the dataset is empty; check its paths and filters")
	case start < 0:
		l.err = fmt.Errorf("data: loader start %d; want at least 0", start)
	}
	if l.err != nil {
		return l
	}
	l.pending = make(chan chan batchResult, 2*workers)
	l.jobs = make(chan loaderJob)
	l.wg.Add(1 + workers)
	go l.dispatch(start)
	for range workers {
		go l.work()
	}
	return l
}

// BatchesPerEpoch is the number of batches in one pass over the dataset.
func (l *Loader) BatchesPerEpoch() int {
	if l.batchSize < 1 {
		return 0
	}
	return (l.ds.Len() + l.batchSize - 1) / l.batchSize
}

// dispatch hands out batches from batch start on: the epochs before it
// are skipped whole, and the batches before it in its epoch are cut from
// the same permutation and dropped.
func (l *Loader) dispatch(start int) {
	defer l.wg.Done()
	n := l.ds.Len()
	bpe := l.BatchesPerEpoch()
	first := (start % bpe) * l.batchSize
	for epoch := start / bpe; ; epoch++ {
		perm := rand.New(rand.NewPCG(l.seed^permSalt, uint64(epoch))).Perm(n)
		for ; first < n; first += l.batchSize {
			j := loaderJob{epoch: epoch, first: first, idx: perm[first:min(first+l.batchSize, n)], out: make(chan batchResult, 1)}
			select {
			case l.pending <- j.out:
			case <-l.done:
				return
			}
			select {
			case l.jobs <- j:
			case <-l.done:
				return
			}
		}
		first = 0
	}
}

func (l *Loader) work() {
	defer l.wg.Done()
	for {
		select {
		case j := <-l.jobs:
			j.out <- l.build(j)
		case <-l.done:
			return
		}
	}
}

func (l *Loader) build(j loaderJob) batchResult {
	exs := make([]*Example, len(j.idx))
	for k, i := range j.idx {
		pos := uint64(j.first + k)
		rng := rand.New(rand.NewPCG(l.seed, uint64(j.epoch)<<32|pos))
		ex, err := l.ds.Example(i, rng)
		if err != nil {
			return batchResult{err: fmt.Errorf("data: example %d (epoch %d): %w", i, j.epoch, err)}
		}
		exs[k] = ex
	}
	return batchResult{b: Collate(exs, maskSize(exs[0]))}
}

// Next returns the next batch. An example that fails to load makes its
// batch an error; the following batches are unaffected.
func (l *Loader) Next() (*TrainBatch, error) {
	if l.err != nil {
		return nil, l.err
	}
	select {
	case <-l.done:
		return nil, ErrClosed
	default:
	}
	select {
	case ch := <-l.pending:
		select {
		case r := <-ch:
			return r.b, r.err
		case <-l.done:
			return nil, ErrClosed
		}
	case <-l.done:
		return nil, ErrClosed
	}
}

// Close stops the workers and waits for them. It is safe to call twice.
func (l *Loader) Close() {
	l.once.Do(func() {
		close(l.done)
		l.wg.Wait()
	})
}
