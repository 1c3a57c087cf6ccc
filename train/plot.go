package train

import (
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/sg2im-go/sg2im/internal/atomicfile"
)

// The loss plot: generator losses above, discriminator losses below.
var (
	plotGenLosses  = []string{"total_loss", "L1_pixel_loss", "bbox_pred", "mask_loss", "ac_loss", "g_gan_obj_loss", "g_gan_img_loss"}
	plotDiscLosses = []string{"d_obj_gan_loss", "d_ac_loss_real", "d_ac_loss_fake", "d_img_gan_loss"}
)

// plotPoints is about how many points a curve keeps after smoothing.
const plotPoints = 400

// legendWidth is the room on the right of the plots for their legends.
const legendWidth = 2.2 * vg.Inch

// writeLossPlot draws the logged losses against t, each curve a running
// mean over about len/plotPoints records, with the validation losses as
// dashed lines, on a log scale where every value is positive.
func writeLossPlot(path string, hist []Record, val []ValRecord) error {
	gen, genLegend := lossPanel("generator losses", plotGenLosses, hist, val)
	disc, discLegend := lossPanel("discriminator losses", plotDiscLosses, hist, nil)
	const w, h = 11 * vg.Inch, 8 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(4), PadY: vg.Points(12)}
	plots := draw.Crop(dc, 0, -legendWidth, 0, 0)
	canvases := plot.Align([][]*plot.Plot{{gen}, {disc}}, tiles, plots)
	for i, pl := range []struct {
		p *plot.Plot
		l plot.Legend
	}{{gen, genLegend}, {disc, discLegend}} {
		c := canvases[i][0]
		pl.p.Draw(c)
		lc := c
		lc.Min.X, lc.Max.X = plots.Max.X+vg.Points(8), dc.Max.X
		pl.l.Draw(lc)
	}
	return atomicfile.Write(path, func(wr io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(wr)
		return err
	})
}

func lossPanel(title string, names []string, hist []Record, val []ValRecord) (*plot.Plot, plot.Legend) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "iteration t"
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	positive, lines := true, 0
	for i, name := range names {
		var xys plotter.XYs
		for _, rec := range hist {
			if v, ok := rec.Losses[name]; ok && !rec.Skipped {
				xys = append(xys, plotter.XY{X: float64(rec.T), Y: v})
			}
		}
		if len(xys) == 0 {
			continue
		}
		xys = smooth(xys, max(1, len(xys)/plotPoints))
		if addLine(p, &legend, xys, name, i, false) {
			continue
		}
		lines++
		positive = positive && allPositive(xys)
	}
	for i, name := range names {
		var xys plotter.XYs
		for _, v := range val {
			if l, ok := v.Losses[name]; ok {
				xys = append(xys, plotter.XY{X: float64(v.T), Y: l})
			}
		}
		if len(xys) == 0 {
			continue
		}
		if addLine(p, &legend, xys, "val "+name, i, true) {
			continue
		}
		lines++
		positive = positive && allPositive(xys)
	}
	if positive && lines > 0 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	return p, legend
}

// logTicks marks a log axis at 1, 2 and 5 times the powers of ten, with
// unlabelled minor ticks between.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	labelled := 0
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for m := 1.0; m < 10; m++ {
			v := m * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', 3, 64)
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	switch {
	case len(ticks) < 2: // a range within one step of 1-9: plain ticks
		return plot.DefaultTicks{}.Ticks(lo, hi)
	case labelled < 2: // a narrow range: label every tick
		for i := range ticks {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', 3, 64)
		}
	}
	return ticks
}

// addLine adds a curve in colour i; it reports a curve that could not be
// made (which leaves the scale alone).
func addLine(p *plot.Plot, legend *plot.Legend, xys plotter.XYs, name string, i int, dashed bool) (failed bool) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return true
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.2)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	p.Add(l)
	legend.Add(name, l)
	return false
}

func allPositive(xys plotter.XYs) bool {
	for _, xy := range xys {
		if !(xy.Y > 0) || math.IsInf(xy.Y, 0) {
			return false
		}
	}
	return true
}

// smooth averages consecutive runs of w points into one.
func smooth(xys plotter.XYs, w int) plotter.XYs {
	if w <= 1 {
		return xys
	}
	var out plotter.XYs
	for i := 0; i < len(xys); i += w {
		end := min(i+w, len(xys))
		var x, y float64
		for _, p := range xys[i:end] {
			x += p.X
			y += p.Y
		}
		out = append(out, plotter.XY{X: x / float64(end-i), Y: y / float64(end-i)})
	}
	return out
}
