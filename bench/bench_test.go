package bench

import (
	"testing"

	"github.com/sg2im-go/sg2im/model"
)

func benchGenerator(b *testing.B, config string) {
	g, err := NewGenerator(config)
	if err != nil {
		b.Fatal(err)
	}
	batch, err := model.Encode([]model.SceneGraph{Graph()}, g.Config.Vocab)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := g.Forward(batch, model.Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/image")
}

// coco64 size: E=D=128, Hd=512, 5 gconv layers, CRN 1024..64, masks 16, Z 32.
func BenchmarkGeneratorCOCO64(b *testing.B) { benchGenerator(b, "coco64") }

// vg128 size: the same network at 128 x 128.
func BenchmarkGeneratorVG128(b *testing.B) { benchGenerator(b, "vg128") }

// TestActivationBudgetAdmitsKnownConfigs: the activation bound of
// model.Config.Validate admits every named configuration.
func TestActivationBudgetAdmitsKnownConfigs(t *testing.T) {
	for _, name := range Configs() {
		cfg := model.DefaultConfig(Vocab())
		cfg.ImageSize = [2]int{benchSides[name], benchSides[name]}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
