package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sg2im-go/sg2im/bench"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/protocol"
	"github.com/sg2im-go/sg2im/weights"
)

// The browser benchmark (make bench-web) runs only when asked:
//
//	go test ./e2e -run '^TestBrowserBench$' -v -timeout 60m -args -bench-web
var (
	benchWeb      = flag.Bool("bench-web", false, "run TestBrowserBench: time bench.html in Chromium beside onnxruntime-web")
	benchDist     = flag.String("bench-dist", "", "serve this built app `dir` (make app's server/static/dist); empty: build one")
	benchConfigs  = flag.String("bench-configs", "coco64,shipped", "bench.html configurations to time, comma-separated")
	benchWarmup   = flag.Float64("bench-warmup", 20, "warm-up `seconds` before the timed passes, ours and onnxruntime-web's")
	benchReps     = flag.Int("bench-reps", 15, "timed passes, ours and onnxruntime-web's")
	ortwebScript  = flag.String("ortweb", filepath.Join("..", "..", "shared", "bench", "ortweb", "run.sh"), "onnxruntime-web anchor `script`; empty skips it")
	ortwebDir     = flag.String("ortweb-dir", filepath.Join(os.TempDir(), "ortweb-anchor"), "the anchor's work `dir` (npm packages, exported ONNX models), kept between runs")
	ortwebThreads = flag.String("ortweb-threads", "1,2", "onnxruntime-web thread counts; the ratio uses the fastest")
)

// benchState is window.sg2imBench.
type benchState struct {
	State  string                `json:"state"`
	Error  string                `json:"error"`
	Result *protocol.BenchResult `json:"result"`
	WallMs float64               `json:"wallMs"`
	Env    struct {
		UserAgent           string `json:"userAgent"`
		CrossOriginIsolated bool   `json:"crossOriginIsolated"`
		HardwareConcurrency int    `json:"hardwareConcurrency"`
	} `json:"env"`
	TableRows int `json:"-"` // rows of the page's layer table
}

// runBenchPage opens bench.html with the query in a fresh browser (as
// the onnxruntime-web anchor does) and waits for window.sg2imBench to
// settle.
func runBenchPage(t *testing.T, url, query string, limit time.Duration) *benchState {
	t.Helper()
	ctx, stop := newBrowser(t)
	defer stop()
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"bench.html?"+query)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(limit)
	for {
		// Poll rarely: the page's thread is idle while the worker computes.
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.sg2imBench || {})`))
		if err != nil {
			t.Fatal(err)
		}
		var s benchState
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			t.Fatalf("window.sg2imBench: %v: %s", err, raw)
		}
		if s.State == "done" || s.State == "error" {
			s.TableRows = eval[int](t, ctx, `document.querySelectorAll("#layers tr").length`)
			screenshot(t, ctx, "bench-"+strings.NewReplacer("=", "-", "&", "_").Replace(query))
			return &s
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, "bench-timeout")
			t.Fatalf("bench.html?%s did not finish in %v (page says %q)", query, limit,
				eval[string](t, ctx, `document.getElementById("status").textContent`))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// shippedProfile is one native profiled pass of the shipped model on the
// benchmark graph: the FLOPs the page must report too.
func shippedProfile(t *testing.T) []bench.LayerStat {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "weights", "shipped", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := weights.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := model.FromCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Encode([]model.SceneGraph{bench.GraphFor(g.Config.Vocab)}, g.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	var prof bench.Profile
	if _, err := g.Forward(b, model.Options{Seed: 1, Profile: &prof}); err != nil {
		t.Fatal(err)
	}
	return prof.Table()
}

// TestBenchPage runs bench.html briefly (no warm-up, one pass of the
// shipped model) and checks that the result is well formed: the engine
// answered the bench request, the layer table adds up to the pass, and
// its FLOPs are the ones the native profiler counts. It checks no speed.
func TestBenchPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take a minute; skipped with -short")
	}
	browser(t) // skips without Chromium before the build
	dir := buildApp(t)
	url, stop := serve(t, dir)
	defer stop()

	s := runBenchPage(t, url, "config=shipped&warmup=0&reps=1", 120*time.Second)
	if s.State != "done" || s.Result == nil {
		t.Fatalf("bench.html: state %q, error %q", s.State, s.Error)
	}
	r := s.Result
	t.Logf("measured: shipped model, one cold pass in Chromium: %.1f ms (%s)", r.MedianMs, r.Gemm)
	if r.Gemm != "wasm-simd" {
		t.Errorf("the engine runs the %q kernel, want wasm-simd: the loader's SIMD kernel, switched on by package wasm", r.Gemm)
	}
	if !s.Env.CrossOriginIsolated {
		t.Error("bench.html is not cross-origin isolated (COOP/COEP missing?)")
	}
	if r.Config != protocol.BenchLoaded || r.Model != "shipped model" || r.ImageSize != [2]int{64, 64} || r.Objects != 6 || r.Params <= 0 {
		t.Errorf("result describes %q %q %v, %d objects, %d params", r.Config, r.Model, r.ImageSize, r.Objects, r.Params)
	}
	if r.WarmupPasses != 0 || len(r.TimesMs) != 1 || r.TimesMs[0] <= 0 || r.MedianMs != r.TimesMs[0] || r.MinMs != r.TimesMs[0] {
		t.Errorf("warm-up passes %d, times %v, median %v, min %v", r.WarmupPasses, r.TimesMs, r.MedianMs, r.MinMs)
	}
	want := shippedProfile(t)
	if len(r.Layers) != len(want) {
		t.Fatalf("%d layer types, want %d: %+v", len(r.Layers), len(want), r.Layers)
	}
	var sum float64
	for i, l := range r.Layers {
		sum += l.Ms
		if l.Layer != want[i].Layer || l.Calls != want[i].Calls || math.Abs(l.GFLOP-want[i].GFLOP) > 1e-9 {
			t.Errorf("layer %d: %s, %v calls, %.6f GFLOP; natively %s, %v calls, %.6f GFLOP",
				i, l.Layer, l.Calls, l.GFLOP, want[i].Layer, want[i].Calls, want[i].GFLOP)
		}
		if l.Ms < 0 || l.GFLOPs < 0 || (l.GFLOP > 0) != (l.GFLOPs > 0) {
			t.Errorf("layer %s: %.3f ms, %.3f GFLOP, %.3f GFLOP/s", l.Layer, l.Ms, l.GFLOP, l.GFLOPs)
		}
	}
	if r.Layers[0].Layer != model.LayerConv3x3 || r.Layers[0].Ms <= 0 {
		t.Errorf("no time for the 3x3 convolutions: %+v", r.Layers[0])
	}
	// The rows add up to the profiled pass, which is the timed pass seen
	// from inside Forward (the page's timer is 5 us coarse when isolated).
	if math.Abs(sum-r.ProfileMs) > 1e-6*r.ProfileMs {
		t.Errorf("the layer table sums to %.3f ms, the profile's pass is %.3f ms", sum, r.ProfileMs)
	}
	if r.ProfileMs > r.MedianMs+0.05 || r.ProfileMs < 0.9*r.MedianMs-0.05 {
		t.Errorf("the profiled pass took %.3f ms, the timed pass %.3f ms", r.ProfileMs, r.MedianMs)
	}
	if s.TableRows != len(want)+2 {
		t.Errorf("the page's layer table has %d rows, want a header, %d layer types and a total", s.TableRows, len(want))
	}

	t.Log("a bad configuration is reported on the page")
	s = runBenchPage(t, url, "config=coco65&warmup=0&reps=1", 60*time.Second)
	if s.State != "error" || !strings.Contains(s.Error, `"coco65"`) {
		t.Errorf("config=coco65: state %q, error %q", s.State, s.Error)
	}
}

// ortLine is a result line of ../shared/bench/ortweb/run.sh.
var ortLine = regexp.MustCompile(`^onnxruntime-web (\S+) threads=(\d+) median_ms=([0-9.]+) min_ms=([0-9.]+)`)

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:min(3, len(strings.Fields(string(b))))], " ")
}

// TestBrowserBench times bench.html in headless Chromium for each of
// -bench-configs, then onnxruntime-web on coco64 with each of
// -ortweb-threads in the same browser, and prints the results and the
// ratio of our coco64 median to onnxruntime-web's best. It measures; it
// fails only when something does not run.
func TestBrowserBench(t *testing.T) {
	if !*benchWeb {
		t.Skip("the browser benchmark runs with -args -bench-web (make bench-web)")
	}
	browser(t)
	dir := *benchDist
	if dir == "" {
		dir = buildApp(t)
	} else if _, err := os.Stat(filepath.Join(dir, "bench.html")); err != nil {
		t.Fatalf("%s has no bench.html: run make app first (%v)", dir, err)
	}
	url, stop := serve(t, dir)
	defer stop()
	start := time.Now()
	fmt.Printf("load average before: %s\n", loadavg())

	type row struct {
		name           string
		median, min    float64
		layers         []bench.LayerStat
		gflop, profile float64
	}
	var rows []row
	results := map[string]any{}
	coco64GFLOP := 0.0
	limit := time.Duration(*benchWarmup*float64(time.Second)) + time.Duration(*benchReps)*10*time.Second + 3*time.Minute
	// Each configuration on the threaded engine (one thread per core, the
	// page being cross-origin isolated) and on the single-thread one.
	threaded := map[string]float64{} // "coco64" -> median, "coco64/1" -> single-thread median
	for _, c := range strings.Split(*benchConfigs, ",") {
		for _, th := range []int{0, 1} {
			q := fmt.Sprintf("config=%s&warmup=%g&reps=%d&threads=%d", c, *benchWarmup, *benchReps, th)
			s := runBenchPage(t, url, q, limit)
			if s.State != "done" {
				t.Fatalf("bench.html?%s: %s", q, s.Error)
			}
			r := s.Result
			name, key := fmt.Sprintf("ours %s, %d threads", c, r.Threads), c
			if th == 1 {
				name, key = fmt.Sprintf("ours %s, 1 thread", c), c+"/1"
			}
			fmt.Printf("%s: median_ms=%.1f min_ms=%.1f (%d warm-up passes in %.0f s, gemm=%s, threads=%d, isolated=%v, cores=%d)\n",
				name, r.MedianMs, r.MinMs, r.WarmupPasses, r.WarmupS, r.Gemm, r.Threads, s.Env.CrossOriginIsolated, s.Env.HardwareConcurrency)
			rows = append(rows, row{name, r.MedianMs, r.MinMs, r.Layers, r.GFLOP, r.ProfileMs})
			results[key] = s
			threaded[key] = r.MedianMs
			if c == "coco64" {
				coco64GFLOP = r.GFLOP
			}
		}
	}

	ort := map[string][2]float64{}
	if *ortwebScript != "" {
		fmt.Printf("onnxruntime-web: %s %s (first use exports the ONNX models, ~5 min)\n", *ortwebScript, *ortwebDir)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", *ortwebScript, *ortwebDir, "--models", "coco64", "--threads", *ortwebThreads,
			"--reps", strconv.Itoa(*benchReps), "--steady-s", fmt.Sprint(*benchWarmup))
		// bench.mjs reads server.py's "PORT n" from one chunk of its
		// output; PYTHONUNBUFFERED=1 splits it into two and the anchor
		// waits forever.
		cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PYTHONUNBUFFERED=") })
		// On timeout, end the script with its node, server and browser.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 10 * time.Second
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
		for sc.Scan() {
			if m := ortLine.FindStringSubmatch(sc.Text()); m != nil {
				med, _ := strconv.ParseFloat(m[3], 64)
				mn, _ := strconv.ParseFloat(m[4], 64)
				ort[m[1]+" threads="+m[2]] = [2]float64{med, mn}
				fmt.Println(sc.Text())
			}
		}
		if err != nil || len(ort) == 0 {
			t.Errorf("onnxruntime-web anchor: %v\n%s", err, out.String())
		}
		results["ortweb"] = ort
	}

	// GFLOP/s: of the whole pass at the median, then of each product
	// type over the timed passes (the profile's means).
	perLayer := []string{model.LayerConv3x3, model.LayerConv1x1, model.LayerLinear}
	fmt.Printf("\n%-34s %9s %9s %9s", "Chromium, per image", "median ms", "min ms", "GFLOP/s")
	for _, l := range perLayer {
		fmt.Printf(" %9s", l)
	}
	fmt.Println()
	for _, r := range rows {
		fmt.Printf("%-34s %9.1f %9.1f %9.2f", r.name, r.median, r.min, r.gflop/r.median*1000)
		for _, name := range perLayer {
			for _, l := range r.layers {
				if l.Layer == name {
					fmt.Printf(" %9.2f", l.GFLOPs)
				}
			}
		}
		fmt.Println()
	}
	keys := make([]string, 0, len(ort))
	for k := range ort {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	best, one := math.Inf(1), math.Inf(1)
	for _, k := range keys {
		fmt.Printf("%-34s %9.1f %9.1f", "onnxruntime-web "+k, ort[k][0], ort[k][1])
		if k == "coco64 threads=1" {
			one = ort[k][0]
		}
		if strings.HasPrefix(k, "coco64 ") {
			best = min(best, ort[k][0])
			if coco64GFLOP > 0 { // the same network: our count of its products
				fmt.Printf(" %9.2f", coco64GFLOP/ort[k][0]*1000)
			}
		}
		fmt.Println()
	}
	for _, r := range rows {
		fmt.Printf("\n%s per layer type (timed passes' mean, %.1f ms):\n", r.name, r.profile)
		bench.WriteTable(os.Stdout, r.layers, 1, 0) // no peak assumed for WebAssembly
	}
	fmt.Println()
	if m, ok := threaded["coco64"]; ok && !math.IsInf(best, 1) {
		fmt.Printf("coco64, threaded: ours / onnxruntime-web best = %.1f / %.1f = %.2f (goal <= 0.75)\n", m, best, m/best)
		results["ratio_coco64_vs_ortweb_best"] = m / best
	}
	if m, ok := threaded["coco64/1"]; ok && !math.IsInf(one, 1) {
		fmt.Printf("coco64, one thread: ours / onnxruntime-web 1 thread = %.1f / %.1f = %.2f (goal <= 0.6)\n", m, one, m/one)
		results["ratio_coco64_1thread_vs_ortweb_1thread"] = m / one
	}
	if m, ok := threaded["shipped"]; ok {
		fmt.Printf("shipped model: %.1f ms per image threaded, %.1f on one thread\n", m, threaded["shipped/1"])
	}
	fmt.Printf("load average after: %s; %.0f s in all\n", loadavg(), time.Since(start).Seconds())
	os.MkdirAll(artifacts, 0o755)
	if b, err := json.MarshalIndent(results, "", "  "); err == nil {
		os.WriteFile(filepath.Join(artifacts, "bench-web.json"), b, 0o644)
	}
}
