package static

import (
	"io/fs"
	"testing"
)

// A clean clone holds only dist/README.md, which must be reachable at the
// root of Dist so the embed compiles and the server can say it is unbuilt.
func TestDist(t *testing.T) {
	if _, err := fs.Stat(Dist(), "README.md"); err != nil {
		t.Fatalf("Dist: %v", err)
	}
}
