package main

import (
	"regexp"
	"strings"
	"testing"
)

// benchLast is the format of bench's last line, which scripts parse.
var benchLast = regexp.MustCompile(`^median_ms=[0-9]+\.[0-9]+ min_ms=[0-9]+\.[0-9]+$`)

func TestBench(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		reps int
	}{
		{"named config", []string{"bench", "--config", "coco64", "--reps", "2", "--threads", "1"}, 2},
		{"model file", []string{"bench", "--config", testdata("tiny_masks.zip.pt"), "--graphs", testdata("graphs/sheep.json"), "--reps", "3"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := sg2im(tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if got := len(lines); got != 1+tc.reps+1 {
				t.Fatalf("%d lines, want a header, %d reps and a summary:\n%s", got, tc.reps, out)
			}
			if !strings.HasPrefix(lines[0], "config=") || !strings.Contains(lines[0], " gemm=") {
				t.Errorf("header %q", lines[0])
			}
			for _, l := range lines[1 : 1+tc.reps] {
				if !strings.HasPrefix(l, "rep ") || !strings.HasSuffix(l, " ms") {
					t.Errorf("rep line %q", l)
				}
			}
			if last := lines[len(lines)-1]; !benchLast.MatchString(last) {
				t.Errorf("last line %q does not match %v", last, benchLast)
			}
		})
	}
}

func TestBenchErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no reps", []string{"bench", "--reps", "0"}, exitUsage, "at least 1"},
		{"argument", []string{"bench", "coco64"}, exitUsage, "unexpected argument"},
		{"missing model", []string{"bench", "--config", "no/such/model.pt"}, exitModel, "no/such/model.pt"},
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
