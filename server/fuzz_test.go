package server

import (
	"io/fs"
	"strings"
	"testing"
)

// FuzzFileName checks that no URL path maps outside the file system.
func FuzzFileName(f *testing.F) {
	for _, s := range []string{"/", "/a/b.js", "/../x", "/a/../../x", `/..\x`, "/x\x00", "//x", "/sub/", "/./x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		name, err := fileName(p)
		if err != nil || name == "" {
			return
		}
		if !fs.ValidPath(name) || strings.ContainsAny(name, "\\\x00") {
			t.Fatalf("fileName(%q) = %q, not a safe name", p, name)
		}
	})
}

// FuzzAcceptQ checks that any Accept-Encoding header parses to q-values
// in [0, 1].
func FuzzAcceptQ(f *testing.F) {
	for _, s := range []string{"", "gzip, br", "br;q=0.5, *;q=0", "x-gzip;Q=1e-3", ";;,,q=", "br;q=NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		for name, q := range acceptQ(accept) {
			if !(q >= 0 && q <= 1) {
				t.Fatalf("acceptQ(%q)[%q] = %v, outside [0, 1]", accept, name, q)
			}
		}
	})
}
