package nn

import "fmt"

// Gather returns the rows idx of x (R, ...), as an embedding lookup or
// index_select on dimension 0 does.
func Gather(x *Tensor, idx []int) *Tensor {
	rows, row := rowsOf("Gather", x)
	shape := append([]int{len(idx)}, x.Shape[1:]...)
	y := New(shape...)
	for i, r := range idx {
		if r < 0 || r >= rows {
			panic(fmt.Sprintf("nn: Gather: index %d out of range [0, %d)", r, rows))
		}
		copy(y.Data[i*row:(i+1)*row], x.Data[r*row:(r+1)*row])
	}
	return y
}

// IndexAdd adds row i of src to row idx[i] of dst, in place.
func IndexAdd(dst *Tensor, idx []int, src *Tensor) {
	rows, row := rowsOf("IndexAdd", dst)
	if len(src.Shape) == 0 || src.Shape[0] != len(idx) || src.Numel() != len(idx)*row {
		panic(fmt.Sprintf("nn: IndexAdd: dst %v, %d indices, src %v", dst.Shape, len(idx), src.Shape))
	}
	for i, r := range idx {
		if r < 0 || r >= rows {
			panic(fmt.Sprintf("nn: IndexAdd: index %d out of range [0, %d)", r, rows))
		}
		d := dst.Data[r*row : (r+1)*row]
		for j, v := range src.Data[i*row : (i+1)*row] {
			d[j] += v
		}
	}
}

func rowsOf(name string, x *Tensor) (rows, row int) {
	if len(x.Shape) == 0 {
		panic("nn: " + name + ": scalar has no rows")
	}
	rows = x.Shape[0]
	if rows == 0 {
		return 0, 0
	}
	return rows, x.Numel() / rows
}

// Concat joins tensors along dimension dim; all other dimensions must agree.
func Concat(dim int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("nn: Concat: no tensors")
	}
	first := ts[0].Shape
	if dim < 0 || dim >= len(first) {
		panic(fmt.Sprintf("nn: Concat: dimension %d of %v", dim, first))
	}
	outer := Numel(first[:dim])
	shape := append([]int(nil), first...)
	shape[dim] = 0
	for _, t := range ts {
		if len(t.Shape) != len(first) {
			panic(fmt.Sprintf("nn: Concat: shapes %v and %v", first, t.Shape))
		}
		for i := range first {
			if i != dim && t.Shape[i] != first[i] {
				panic(fmt.Sprintf("nn: Concat: shapes %v and %v", first, t.Shape))
			}
		}
		shape[dim] += t.Shape[dim]
	}
	y := New(shape...)
	off := 0
	stride := Numel(shape[dim:])
	for _, t := range ts {
		chunk := Numel(t.Shape[dim:])
		for o := 0; o < outer; o++ {
			copy(y.Data[o*stride+off:][:chunk], t.Data[o*chunk:][:chunk])
		}
		off += chunk
	}
	return y
}

// SliceCols returns columns [from, to) of x (R, C).
func SliceCols(x *Tensor, from, to int) *Tensor {
	mustRank("SliceCols", x, 2)
	r, c := x.Shape[0], x.Shape[1]
	if from < 0 || to > c || from > to {
		panic(fmt.Sprintf("nn: SliceCols: [%d, %d) of %v", from, to, x.Shape))
	}
	y := New(r, to-from)
	for i := 0; i < r; i++ {
		copy(y.Data[i*(to-from):(i+1)*(to-from)], x.Data[i*c+from:i*c+to])
	}
	return y
}
