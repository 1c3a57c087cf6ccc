package server

import (
	"io/fs"
	"strconv"
	"strings"
)

// codings are the precompressed encodings, in order of preference.
var codings = []struct{ name, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// A variant is one stored representation of a resource.
type variant struct {
	encoding string // "" for identity
	name     string // file name in the file system
	info     fs.FileInfo
}

// variants returns the precompressed variants of name that exist, in order
// of preference, followed by identity.
func (h *handler) variants(name string, info fs.FileInfo) []variant {
	var vs []variant
	for _, c := range codings {
		vi, err := fs.Stat(h.fsys, name+c.suffix)
		if err == nil && vi.Mode().IsRegular() {
			vs = append(vs, variant{c.name, name + c.suffix, vi})
		}
	}
	return append(vs, variant{"", name, info})
}

// isVariant reports whether name is a precompressed variant of a file that
// exists, and so no resource of its own.
func (h *handler) isVariant(name string) bool {
	for _, c := range codings {
		if base, ok := strings.CutSuffix(name, c.suffix); ok {
			info, err := fs.Stat(h.fsys, base)
			return err == nil && info.Mode().IsRegular()
		}
	}
	return false
}

// negotiate picks from vs (identity last) the variant with the highest
// q-value in the Accept-Encoding header accept, earlier ones winning ties.
// Identity wins only if named with a higher q than every other variant, and
// is the fallback even when the header refuses it, as most servers do
// rather than answering 406.
func negotiate(accept string, vs []variant) variant {
	q := acceptQ(accept)
	best, bestQ := vs[len(vs)-1], 0.0
	for _, v := range vs[:len(vs)-1] {
		vq, ok := q[v.encoding]
		if !ok {
			vq = q["*"]
		}
		if vq > bestQ {
			best, bestQ = v, vq
		}
	}
	if iq, ok := q["identity"]; ok && iq > bestQ {
		return vs[len(vs)-1]
	}
	return best
}

// acceptQ parses an Accept-Encoding header into q-values by lower-case
// coding name. Codings without a valid q get 1; malformed q-values get 0.
func acceptQ(accept string) map[string]float64 {
	q := make(map[string]float64)
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if name == "x-gzip" { // RFC 9110 §8.4.1.3: an alias of gzip
			name = "gzip"
		}
		v := 1.0
		for _, p := range strings.Split(params, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil || !(f >= 0 && f <= 1) { // also NaN
					f = 0
				}
				v = f
			}
		}
		q[name] = v
	}
	return q
}
