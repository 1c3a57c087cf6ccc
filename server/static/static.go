// Package static holds the built browser app, embedded from dist/ (which
// `make app` fills; a clean clone has only dist/README.md).
package static

import (
	"embed"
	"io/fs"
)

// FS is dist/ as built; "all:" keeps files such as .well-known/ that start
// with a dot or underscore.
//
//go:embed all:dist
var FS embed.FS

// Dist returns FS rooted at dist/, so dist/index.html is "index.html".
func Dist() fs.FS {
	sub, err := fs.Sub(FS, "dist")
	if err != nil {
		panic("static: " + err.Error()) // "dist" is a valid constant path
	}
	return sub
}
