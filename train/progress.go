package train

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// rateWindow is how many recent iterations the it/s figure averages.
const rateWindow = 50

// redrawEvery limits how often the terminal line is redrawn.
const redrawEvery = 100 * time.Millisecond

// progress reports iterations, speed, ETA and the current losses: as one
// line redrawn in place on a terminal, as plain lines every print_every
// iterations otherwise.
type progress struct {
	w        io.Writer
	terminal bool
	every    int
	total    int
	times    []time.Time // when recent iterations ended, oldest first
	drawn    bool        // a terminal line is showing
	lastDraw time.Time
	line     string
}

func newProgress(w io.Writer, terminal bool, every, total int) *progress {
	return &progress{w: w, terminal: terminal, every: every, total: total}
}

// rate is iterations per second over the recent window; 0 until known.
func (p *progress) rate() float64 {
	if len(p.times) < 2 {
		return 0
	}
	d := p.times[len(p.times)-1].Sub(p.times[0]).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(len(p.times)-1) / d
}

// pause drops the speed history, so that time spent on checkpoints does
// not count as training.
func (p *progress) pause() { p.times = p.times[:0] }

// step reports iteration t with its losses (nil for a skipped step).
func (p *progress) step(t int, losses map[string]float64) {
	now := time.Now()
	p.times = append(p.times, now)
	if len(p.times) > rateWindow {
		p.times = p.times[len(p.times)-rateWindow:]
	}
	if losses != nil {
		p.line = p.format(t, losses)
	}
	switch {
	case p.terminal:
		if now.Sub(p.lastDraw) >= redrawEvery || t == p.total {
			p.lastDraw = now
			fmt.Fprintf(p.w, "\r\x1b[K%s", p.line)
			p.drawn = true
		}
	case t%p.every == 0 && losses != nil:
		fmt.Fprintln(p.w, p.line)
	}
}

// clear removes the terminal line before a message is printed; the next
// step draws it again.
func (p *progress) clear() {
	if p.terminal && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
		p.lastDraw = time.Time{}
	}
}

// done ends the terminal line.
func (p *progress) done() {
	if p.terminal && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// shortNames abbreviate the losses on the progress line.
var shortNames = map[string]string{
	"total_loss": "total", "L1_pixel_loss": "L1", "bbox_pred": "bbox", "mask_loss": "mask", "ac_loss": "ac",
	"g_gan_obj_loss": "g_obj", "g_gan_img_loss": "g_img", "d_obj_gan_loss": "d_obj", "d_ac_loss_real": "d_ac_real",
	"d_ac_loss_fake": "d_ac_fake", "d_obj_total": "d_obj_total", "d_img_gan_loss": "d_img",
}

func (p *progress) format(t int, losses map[string]float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "t = %d / %d", t, p.total)
	if r := p.rate(); r > 0 {
		fmt.Fprintf(&b, "  %.2f it/s  ETA %s", r, formatETA(float64(p.total-t)/r))
	}
	b.WriteString(" |")
	for _, n := range orderedNames(losses) {
		if n == "d_ac_loss_real" || n == "d_ac_loss_fake" || n == "d_obj_total" {
			continue // shown in losses.jsonl; the line keeps to one row
		}
		name := shortNames[n]
		if name == "" {
			name = n
		}
		fmt.Fprintf(&b, " %s %.4g", name, losses[n])
	}
	return b.String()
}

// formatETA writes seconds as e.g. 3d04h, 5h07m, 12m30s.
func formatETA(s float64) string {
	if s < 0 || s > 1e9 {
		return "?"
	}
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	h := int(d.Hours())
	switch {
	case h >= 24:
		return fmt.Sprintf("%dd%02dh", h/24, h%24)
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
}
