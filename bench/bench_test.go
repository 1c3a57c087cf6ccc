package model

import (
	"testing"
)

func benchGenerator(b *testing.B, config string) {
	g, err := NewBenchGenerator(config)
	if err != nil {
		b.Fatal(err)
	}
	batch, err := Encode([]SceneGraph{BenchGraph}, g.Config.Vocab)
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
func BenchmarkGeneratorCOCO64(b *testing.B) { benchGenerator(b, "coco64") }

// vg128 size: the same network at 128 x 128.
func BenchmarkGeneratorVG128(b *testing.B) { benchGenerator(b, "vg128") }
