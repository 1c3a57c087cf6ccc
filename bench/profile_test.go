package bench

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
)

// expectedFlops counts the products of one pass from the config alone:
// O objects and T triples in N images.
func expectedFlops(cfg *model.Config, O, T, N int) map[string]int64 {
	E, D, Hd, Z := int64(cfg.EmbeddingDim), int64(cfg.GconvDim), int64(cfg.GconvHiddenDim), int64(cfg.LayoutNoiseDim)
	o, t := int64(O), int64(T)
	lin := func(in, out, rows int64) int64 { return 2 * in * out * rows }
	var linear int64
	for i := 0; i < cfg.GconvNumLayers; i++ {
		in := D
		if i == 0 {
			in = E
		}
		linear += lin(3*in, Hd, t) + lin(Hd, 2*Hd+D, t) + lin(Hd, Hd, o) + lin(Hd, D, o)
	}
	linear += lin(D, Hd, o) + lin(Hd, 4, o)                                       // box net
	linear += lin(2*E+8, Hd, t) + lin(Hd, int64(len(cfg.Vocab.PredIdxToName)), t) // relationship net
	var c3, c1 int64
	for s := int64(2); s <= int64(cfg.MaskSize); s *= 2 {
		c3 += 2 * D * D * 9 * s * s * o
	}
	c1 += 2 * D * 1 * s2(cfg.MaskSize) * o
	H, W := int64(cfg.ImageSize[0]), int64(cfg.ImageSize[1])
	K := len(cfg.RefinementDims)
	prev := int64(1)
	for k, f := range cfg.RefinementDims {
		h, w := H>>(K-1-k), W>>(K-1-k)
		F := int64(f)
		c3 += 2*F*(D+Z+prev)*9*h*w*int64(N) + 2*F*F*9*h*w*int64(N)
		prev = F
	}
	c3 += 2 * prev * prev * 9 * H * W * int64(N)
	c1 += 2 * 3 * prev * H * W * int64(N)
	return map[string]int64{model.LayerConv3x3: c3, model.LayerConv1x1: c1, model.LayerLinear: linear}
}

func s2(m int) int64 { return int64(m) * int64(m) }

// smallConfig is a small model with the release's architecture.
func smallConfig() model.Config {
	return model.Config{
		ImageSize: [2]int{16, 16}, EmbeddingDim: 8, GconvDim: 8, GconvHiddenDim: 12,
		GconvNumLayers: 2, GconvPooling: "avg", RefinementDims: []int{8, 4},
		Normalization: "batch", Activation: "leakyrelu-0.2", MaskSize: 4,
		MLPNormalization: "none", LayoutNoiseDim: 2,
		Vocab: model.NewVocab([]string{"sky", "grass", "sheep", "tree"}, []string{"left of", "right of", "above", "below"}),
	}
}

func TestProfile(t *testing.T) {
	for _, norm := range []string{"batch", "instance"} {
		t.Run(norm, func(t *testing.T) {
			cfg := smallConfig()
			cfg.Normalization = norm
			cfg.MLPNormalization = norm // batch norm in the MLPs too (instance is not an MLP norm)
			if norm == "instance" {
				cfg.MLPNormalization = "none"
			}
			g, err := model.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			g.InitRandom(5)
			graphs, err := model.ParseGraphs([]byte(`[{"objects": ["sky", "sheep", "grass"], "relationships": [[0, "above", 1], [1, "above", 2]]},
				{"objects": ["tree"], "relationships": []}]`))
			if err != nil {
				t.Fatal(err)
			}
			batch, err := model.Encode(graphs, g.Config.Vocab)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := g.Forward(batch, model.Options{Seed: 2})
			if err != nil {
				t.Fatal(err)
			}
			var prof Profile
			for range 3 {
				out, err := g.Forward(batch, model.Options{Seed: 2, Profile: &prof})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(out.Img.Data, plain.Img.Data) {
					t.Fatal("profiling changed the image")
				}
			}
			if prof.Passes() != 3 {
				t.Fatalf("%d passes recorded, want 3", prof.Passes())
			}
			rows := prof.Table()
			var names []string
			var sum float64
			got := map[string]LayerStat{}
			for _, r := range rows {
				names = append(names, r.Layer)
				got[r.Layer] = r
				sum += r.Ms
				if r.Ms < 0 || r.GFLOP < 0 || r.GFLOPs < 0 || math.IsNaN(r.Ms) {
					t.Errorf("row %+v has a negative value", r)
				}
			}
			if want := append(model.LayerTypes(), LayerOther); !reflect.DeepEqual(names, want) {
				t.Errorf("rows %v, want %v", names, want)
			}
			if math.Abs(sum-prof.TotalMs()) > 1e-6*prof.TotalMs() {
				t.Errorf("rows sum to %.6f ms, the pass took %.6f ms", sum, prof.TotalMs())
			}
			for layer, flops := range expectedFlops(&cfg, len(batch.Objs), len(batch.Triples), batch.NumImages) {
				if g := got[layer].GFLOP * 1e9; math.Abs(g-float64(flops)) > 0.5 {
					t.Errorf("%s: %.0f FLOPs per pass, want %d", layer, g, flops)
				}
			}
			if got[model.LayerConv3x3].Ms <= 0 {
				t.Error("no time recorded for the 3x3 convolutions")
			}
			K := len(cfg.RefinementDims)
			masks := 0
			for s := 1; s < cfg.MaskSize; s *= 2 {
				masks++
			}
			wantCalls := map[string]float64{
				model.LayerConv3x3: float64(masks + 2*K + 1), model.LayerConv1x1: 2,
				model.LayerLinear: float64(4*cfg.GconvNumLayers + 4), model.LayerResample: float64(K),
				model.LayerPaint: 2,
			}
			switch norm {
			case "batch":
				wantCalls[model.LayerNorm] = float64(4*cfg.GconvNumLayers + 4) // one per linear layer
			case "instance":
				wantCalls[model.LayerNorm] = float64(2*K + 1 - 1) // every CRN 3x3 but the output conv
			}
			for layer, n := range wantCalls {
				if got[layer].Calls != n {
					t.Errorf("%s: %v calls per pass, want %v", layer, got[layer].Calls, n)
				}
			}

			// A pass on a tape records nothing.
			prof.Reset()
			if _, err := g.ForwardTape(nn.NewTape(), false, batch, model.Options{Seed: 2, Profile: &prof}); err != nil {
				t.Fatal(err)
			}
			if prof.Passes() != 0 || prof.Table() != nil {
				t.Errorf("a taped pass was profiled: %+v", prof.Table())
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	WriteTable(&buf, []LayerStat{{Layer: model.LayerConv3x3, Ms: 3, GFLOP: 0.006, GFLOPs: 2}, {Layer: LayerOther, Ms: 1}}, 1, 8)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("table:\n%s", buf.String())
	}
	for i, want := range []string{"layer ms/image share GFLOP GFLOP/s of peak", "conv3x3 3.00 75.0% 0.006 2.0 25.0%", "other 1.00 25.0% - - -", "total 4.00 100.0% 0.006 1.5 18.8%"} {
		if got := strings.Join(strings.Fields(lines[i]), " "); got != want {
			t.Errorf("line %d %q, want %q", i, got, want)
		}
	}
}

func TestGraphFor(t *testing.T) {
	if g := GraphFor(Vocab()); !reflect.DeepEqual(g, Graph()) {
		t.Errorf("in its own vocabulary the graph changed: %+v", g)
	}
	v := model.NewVocab([]string{"bird", "grass", "sea", "sheep", "sky", "tree"}, []string{"above", "below", "on"})
	g := GraphFor(v)
	if want := []string{"sky", "grass", "sheep", "sheep", "tree", "bird"}; !reflect.DeepEqual(g.Objects, want) {
		t.Errorf("objects %v, want %v", g.Objects, want)
	}
	var preds []string
	for _, r := range g.Relationships {
		preds = append(preds, r.Predicate)
	}
	if want := []string{"above", "below", "above", "above", "above"}; !reflect.DeepEqual(preds, want) {
		t.Errorf("predicates %v, want %v", preds, want)
	}
	if _, err := model.Encode([]model.SceneGraph{g}, v); err != nil {
		t.Error(err)
	}
	g.Objects[0], g.Relationships[0].Predicate = "changed", "changed"
	if !reflect.DeepEqual(GraphFor(Vocab()), Graph()) || Graph().Objects[0] != "sky" || Graph().Relationships[0].Predicate != "above" {
		t.Error("changing a returned graph changed the benchmark's")
	}
}

func TestNewGenerator(t *testing.T) {
	if _, err := NewGenerator("coco65"); err == nil || !strings.Contains(err.Error(), "coco64") {
		t.Errorf("unknown config: error %v", err)
	}
	if got := Configs(); !reflect.DeepEqual(got, []string{"coco64", "vg128", "x256"}) {
		t.Errorf("Configs() = %v", got)
	}
}
