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
	stride := Numel(shape[dim:])
	parallelFor(outer, 2*stride, func(lo, hi int) {
		off := 0
		for _, t := range ts {
			chunk := Numel(t.Shape[dim:])
			for o := lo; o < hi; o++ {
				copy(y.Data[o*stride+off:][:chunk], t.Data[o*chunk:][:chunk])
			}
			off += chunk
		}
	})
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

// Gather on a tape: backward scatters rows back (an embedding's gradient).
func (tp *Tape) Gather(x *Var, idx []int) *Var {
	y := Gather(x.Value, idx)
	return tp.result(y, func(g *Tensor) {
		IndexAdd(x.grad(), idx, g)
	}, x)
}

// IndexAddRows returns a (rows, ...) tensor of zeros with row i of src
// added to row idx[i]: index-add pooling.
func (tp *Tape) IndexAddRows(rows int, idx []int, src *Var) *Var {
	y := New(append([]int{rows}, src.Value.Shape[1:]...)...)
	IndexAdd(y, idx, src.Value)
	return tp.result(y, func(g *Tensor) {
		_, row := rowsOf("IndexAddRows", g)
		ds := src.grad().Data
		for i, r := range idx {
			addTo(ds[i*row:(i+1)*row], g.Data[r*row:(r+1)*row])
		}
	}, src)
}

// ScaleRows divides row i of x (R, ...) by div[i].
func (tp *Tape) ScaleRows(x *Var, div []float32) *Var {
	y := x.Value.Clone()
	rows, row := rowsOf("ScaleRows", y)
	if len(div) != rows {
		panic("nn: ScaleRows: one divisor per row")
	}
	for i := 0; i < rows; i++ {
		for j := i * row; j < (i+1)*row; j++ {
			y.Data[j] /= div[i]
		}
	}
	return tp.result(y, func(g *Tensor) {
		dx := x.grad().Data
		for i := 0; i < rows; i++ {
			for j := i * row; j < (i+1)*row; j++ {
				dx[j] += g.Data[j] / div[i]
			}
		}
	}, x)
}

// Concat on a tape.
func (tp *Tape) Concat(dim int, xs ...*Var) *Var {
	ts := make([]*Tensor, len(xs))
	for i, x := range xs {
		ts[i] = x.Value
	}
	y := Concat(dim, ts...)
	return tp.result(y, func(g *Tensor) {
		outer := Numel(y.Shape[:dim])
		stride := Numel(y.Shape[dim:])
		dxs := make([][]float32, len(xs))
		fresh := make([]bool, len(xs)) // zeros: copying is adding
		for i, x := range xs {
			fresh[i] = x.Grad == nil
			dxs[i] = optGrad(x)
		}
		parallelFor(outer, 2*stride, func(lo, hi int) {
			off := 0
			for i, x := range xs {
				chunk := Numel(x.Value.Shape[dim:])
				for o := lo; o < hi && dxs[i] != nil; o++ {
					src, dx := g.Data[o*stride+off:][:chunk], dxs[i][o*chunk:(o+1)*chunk]
					if fresh[i] {
						copy(dx, src)
					} else {
						addTo(dx, src)
					}
				}
				off += chunk
			}
		})
	}, xs...)
}

// SliceCols on a tape.
func (tp *Tape) SliceCols(x *Var, from, to int) *Var {
	y := SliceCols(x.Value, from, to)
	return tp.result(y, func(g *Tensor) {
		r, c, w := x.Value.Shape[0], x.Value.Shape[1], to-from
		dx := x.grad().Data
		for i := 0; i < r; i++ {
			addTo(dx[i*c+from:i*c+to], g.Data[i*w:(i+1)*w])
		}
	}, x)
}

// Reshape on a tape: the output shares x's values.
func (tp *Tape) Reshape(x *Var, shape ...int) *Var {
	y := x.Value.Reshape(shape...)
	return tp.result(y, func(g *Tensor) { addTo(x.grad().Data, g.Data) }, x)
}
