package world

import (
	"math/rand/v2"
	"testing"
)

// benchScene renders scenes of one image size, a different scene each
// iteration.
func benchScene(b *testing.B, size int) {
	opts := DefaultOptions()
	opts.ImageSize = size
	w, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := w.Scene(i % opts.N); err != nil {
			b.Fatal(err)
		}
	}
}

// benchExample renders scenes and makes their examples (masks, triples).
func benchExample(b *testing.B, size int) {
	opts := DefaultOptions()
	opts.ImageSize = size
	w, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := w.Example(i%opts.N, rng); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScene32(b *testing.B)   { benchScene(b, 32) }
func BenchmarkScene64(b *testing.B)   { benchScene(b, 64) }
func BenchmarkScene128(b *testing.B)  { benchScene(b, 128) }
func BenchmarkExample64(b *testing.B) { benchExample(b, 64) }
