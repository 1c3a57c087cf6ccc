package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var blasImpl gonum.Implementation

// Gemm computes dst = alpha * op(a) * op(b) + beta * dst for row-major
// matrices, op(a) being m x k and op(b) k x n. Every matrix product of the
// package goes through here, so a faster kernel replaces it in one place.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, dst []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	if k == 0 {
		// gonum rejects k = 0; the product is empty, so only beta applies.
		for i := 0; i < m; i++ {
			row := dst[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	blasImpl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, dst, ldc)
}
