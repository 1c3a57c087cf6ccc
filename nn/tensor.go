// Package nn holds float32 tensors and the kernels of the sg2im networks.
//
// Kernels are functions over slices with the destination first; the Tensor
// functions around them check shapes and allocate outputs. Shape mismatches
// are programmer errors and panic with an "nn: " message.
package nn

import (
	"fmt"
	"slices"
)

// Tensor is a dense float32 array in row-major order.
type Tensor struct {
	// Shape lists the sizes of the dimensions, outermost first. Images are
	// NCHW: element (n, c, h, w) of a (N, C, H, W) tensor is at
	// Data[((n*C+c)*H+h)*W+w].
	Shape []int
	// Data holds Numel() values.
	Data []float32
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Tensor {
	n := Numel(shape)
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// FromData wraps data in a tensor of the given shape without copying.
func FromData(data []float32, shape ...int) *Tensor {
	if Numel(shape) != len(data) {
		panic(fmt.Sprintf("nn: FromData: %d values for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Numel is the number of elements of a tensor of the given shape.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic("nn: negative dimension")
		}
		n *= d
	}
	return n
}

// Numel is the number of elements of t.
func (t *Tensor) Numel() int { return len(t.Data) }

// Dim is the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Reshape returns a tensor sharing t's data with another shape of the same
// size.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	return FromData(t.Data, shape...)
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool { return slices.Equal(a, b) }

// AllFinite reports whether every value of data is neither NaN nor infinite.
func AllFinite(data []float32) bool {
	// v - v is 0 for finite v and NaN for infinities and NaN: one
	// subtraction a value, summed without a branch.
	var acc float32
	for _, v := range data {
		acc += v - v
	}
	return acc == 0
}

func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.Shape) }

func mustRank(name string, t *Tensor, rank int) {
	if len(t.Shape) != rank {
		panic(fmt.Sprintf("nn: %s: want rank %d, got shape %v", name, rank, t.Shape))
	}
}
