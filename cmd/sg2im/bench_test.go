package main

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// benchLast is the format of bench's last line, which scripts parse.
var benchLast = regexp.MustCompile(`^median_ms=[0-9]+\.[0-9]+ min_ms=[0-9]+\.[0-9]+$`)

// peakLine is the table's heading, which states the peak assumed.
var peakLine = regexp.MustCompile(`; peak [0-9.]+ GFLOP/s = [0-9]+ threads x 32 FLOP/cycle .* x [0-9.]+ GHz \(measured\):$`)

func TestBench(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		reps    int
		profile bool
	}{
		{"named config", []string{"bench", "--config", "coco64", "--reps", "2", "--threads", "1"}, 2, true},
		{"model file", []string{"bench", "--config", testdata("tiny_masks.zip.pt"), "--graphs", testdata("graphs/sheep.json"), "--reps", "3"}, 3, true},
		{"no profile", []string{"bench", "--config", testdata("tiny_masks.zip.pt"), "--graphs", testdata("graphs/sheep.json"), "--reps", "2", "--profile=false"}, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := sg2im(tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			table := 0
			if tc.profile {
				table = 2 + 7 + 1 // heading, column names, 7 layer types, total
			}
			if got := len(lines); got != 1+tc.reps+table+1 {
				t.Fatalf("%d lines, want a header, %d reps, %d lines of table and a summary:\n%s", got, tc.reps, table, out)
			}
			if !strings.HasPrefix(lines[0], "config=") || !strings.Contains(lines[0], " gemm=") {
				t.Errorf("header %q", lines[0])
			}
			for _, l := range lines[1 : 1+tc.reps] {
				if !strings.HasPrefix(l, "rep ") || !strings.HasSuffix(l, " ms") {
					t.Errorf("rep line %q", l)
				}
			}
			if tc.profile {
				rows := lines[1+tc.reps+2 : len(lines)-1]
				var sum float64
				for i, want := range []string{"conv3x3", "conv1x1", "linear", "norm", "upsample/pool", "mask/paint", "other", "total"} {
					f := strings.Fields(rows[i])
					if len(f) != 6 || f[0] != want {
						t.Fatalf("table row %d %q, want 6 fields starting %s:\n%s", i, rows[i], want, out)
					}
					ms, err := strconv.ParseFloat(f[1], 64)
					if err != nil || ms < 0 {
						t.Errorf("row %q: time %q", rows[i], f[1])
					}
					if want != "total" {
						sum += ms
					} else if math.Abs(sum-ms) > 0.05 {
						t.Errorf("the rows sum to %.2f ms, the total says %.2f", sum, ms)
					}
				}
				if f := strings.Fields(rows[0]); f[3] == "-" || f[4] == "-" || !strings.HasSuffix(f[5], "%") {
					t.Errorf("no FLOPs or share of peak for the 3x3 convolutions: %q", rows[0])
				}
				if h := lines[1+tc.reps]; !peakLine.MatchString(h) {
					t.Errorf("table heading %q does not match %v", h, peakLine)
				}
			}
			if last := lines[len(lines)-1]; !benchLast.MatchString(last) {
				t.Errorf("last line %q does not match %v", last, benchLast)
			}
		})
	}
}

func TestBenchErrors(t *testing.T) {
	// 1024 graphs of the tiny model's words as one batch at 256 x 256.
	many := filepath.Join(t.TempDir(), "many.json")
	g := `{"objects": ["sky", "grass"], "relationships": [[0, "above", 1]]}`
	os.WriteFile(many, []byte("["+strings.Repeat(g+",", 1023)+g+"]"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no reps", []string{"bench", "--reps", "0"}, exitUsage, "at least 1"},
		{"argument", []string{"bench", "coco64"}, exitUsage, "unexpected argument"},
		{"missing model", []string{"bench", "--config", "no/such/model.pt"}, exitModel, "no/such/model.pt"},
		{"too many graphs for one batch", []string{"bench", "--config", "x256", "--graphs", many}, exitInput, "the 1024 graphs, one batch here, need about"},
		{"graph outside the vocabulary", []string{"bench", "--config", testdata("tiny_masks.zip.pt"), "--graphs", testdata("graphs/bad_word.json")}, exitInput, "unknown object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := sg2im(tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errs, tc.code, tc.want)
			}
		})
	}
}
