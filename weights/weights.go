// Package weights reads and writes weight files: the sg2im release's PyTorch
// checkpoints (legacy and zip serialisations) and safetensors files.
//
// Readers work from a []byte or read a file of known size a part at a time
// (an io.ReaderAt: an os.File, a Blob in the browser), and treat their
// input as untrusted: every size is checked against the bytes present before
// anything is allocated, and malformed input gives an error (a *FormatError
// for a bad file), never a panic. The package does no maths.
package weights

import (
	"fmt"

	"github.com/sg2im-go/sg2im/nn"
)

// DType is a tensor element type, named as safetensors names it.
type DType string

// Element types. Values are always held as float32 in memory; the DType says
// how they are (or will be) stored in a file.
const (
	F32  DType = "F32"
	I64  DType = "I64"
	F64  DType = "F64"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	U16  DType = "U16"
	U32  DType = "U32"
	U64  DType = "U64"
	BOOL DType = "BOOL"
)

// Tensor is one named entry of a state dict or a safetensors file.
type Tensor struct {
	Name string
	// DType is the element type in the file; I64 and other integer values
	// are converted to float32 in T.
	DType DType
	T     *nn.Tensor
}

// FormatError reports bytes that are not a valid checkpoint or safetensors
// file.
type FormatError struct {
	Path string // the file, "" when decoding bytes
	Msg  string
}

func (e *FormatError) Error() string {
	if e.Path == "" {
		return "weights: " + e.Msg
	}
	return "weights: " + e.Path + ": " + e.Msg
}

func formatErr(format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...)}
}

// hintRefetch ends messages about files that stop early.
const hintRefetch = "(the download may be incomplete; fetch it again)"

// within prefixes a format error's message with where it happened.
func within(where string, err error) error {
	if fe, ok := err.(*FormatError); ok {
		return &FormatError{Path: fe.Path, Msg: where + ": " + fe.Msg}
	}
	return err
}
