package model

import (
	"testing"
)

// benchGraph and benchVocab are the speed anchor's (torch_anchor.py):
// one 6-object scene.
var benchGraph = SceneGraph{
	Objects: []string{"sky", "grass", "sheep", "sheep", "tree", "ocean"},
	Relationships: []Relationship{
		{0, "above", 1}, {2, "below", 0}, {3, "left of", 2}, {4, "above", 2}, {5, "right of", 4},
	},
}

func benchVocab() *Vocab {
	return NewVocab(
		[]string{"sky", "grass", "sheep", "tree", "ocean", "person", "cloud", "road"},
		[]string{"left of", "right of", "above", "below", "inside", "surrounding"})
}

func benchGenerator(b *testing.B, side int) {
	cfg := DefaultConfig(benchVocab())
	cfg.ImageSize = [2]int{side, side}
	g, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	g.InitRandom(0)
	batch, err := Encode([]SceneGraph{benchGraph}, cfg.Vocab)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := g.Forward(batch, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/image")
}

// coco64 size: E=D=128, Hd=512, 5 gconv layers, CRN 1024..64, masks 16, Z 32.
func BenchmarkGeneratorCOCO64(b *testing.B) { benchGenerator(b, 64) }

// vg128 size: the same network at 128 x 128.
func BenchmarkGeneratorVG128(b *testing.B) { benchGenerator(b, 128) }
