package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// NewLoaderAt is NewLoader resumed after start batches: its first batch is
// the one a NewLoader of the same dataset, batch size and seed hands out
// as its batch number start (counting from 0, across epochs), and so on,
// without building the batches before it. Training resumes with it.
func NewLoaderAt(ds Dataset, batchSize int, seed uint64, workers, start int) *Loader {
	if start == 0 {
		return NewLoader(ds, batchSize, seed, workers)
	}
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
	go l.dispatchFrom(start)
	for range workers {
		go l.work()
	}
	return l
}

// dispatchFrom is dispatch starting at batch start: the epochs before it
// are skipped whole, and the batches before it in its epoch are cut from
// the same permutation and dropped.
func (l *Loader) dispatchFrom(start int) {
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
