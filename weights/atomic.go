package weights

import (
	"io"

	"github.com/sg2im-go/sg2im/internal/atomicfile"
)

// WriteFileAtomic writes a file whole or not at all (atomicfile.Write),
// for callers outside this module's internal packages' reach.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, write)
}
