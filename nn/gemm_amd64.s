//go:build amd64 && !purego

#include "textflag.h"

// The 6 x 16 tile lives in Y0-Y11, two 8-wide registers per row. Each step
// loads one row of the B micro-panel into Y12-Y13 and broadcasts the six
// values of the A micro-panel (SI) two at a time into Y14-Y15.

#define ZERO_TILE \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11

#define STEP \
	VBROADCASTSS (SI), Y14; \
	VBROADCASTSS 4(SI), Y15; \
	VFMADD231PS Y12, Y14, Y0; \
	VFMADD231PS Y13, Y14, Y1; \
	VFMADD231PS Y12, Y15, Y2; \
	VFMADD231PS Y13, Y15, Y3; \
	VBROADCASTSS 8(SI), Y14; \
	VBROADCASTSS 12(SI), Y15; \
	VFMADD231PS Y12, Y14, Y4; \
	VFMADD231PS Y13, Y14, Y5; \
	VFMADD231PS Y12, Y15, Y6; \
	VFMADD231PS Y13, Y15, Y7; \
	VBROADCASTSS 16(SI), Y14; \
	VBROADCASTSS 20(SI), Y15; \
	VFMADD231PS Y12, Y14, Y8; \
	VFMADD231PS Y13, Y14, Y9; \
	VFMADD231PS Y12, Y15, Y10; \
	VFMADD231PS Y13, Y15, Y11; \
	ADDQ $24, SI

// STORE_ROW writes row registers lo, hi to (DX) as alpha*acc (+ beta*C).
#define SCALE_ROW(lo, hi) \
	VMULPS Y14, lo, lo; \
	VMULPS Y14, hi, hi

#define STORE_ROW(lo, hi) \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 32(DX); \
	ADDQ R8, DX

#define BETA_ROW(lo, hi) \
	VFMADD231PS (DX), Y15, lo; \
	VFMADD231PS 32(DX), Y15, hi; \
	STORE_ROW(lo, hi)

// EPILOGUE scales the tile by alpha (X14 holds it broadcast in Y14),
// adds beta*C unless beta (at betaoff(FP)) is zero, and stores it to
// DX with row stride R8 bytes.
#define EPILOGUE(alpha, beta) \
	VBROADCASTSS alpha, Y14; \
	SCALE_ROW(Y0, Y1); \
	SCALE_ROW(Y2, Y3); \
	SCALE_ROW(Y4, Y5); \
	SCALE_ROW(Y6, Y7); \
	SCALE_ROW(Y8, Y9); \
	SCALE_ROW(Y10, Y11); \
	VXORPS X15, X15, X15; \
	VUCOMISS beta, X15; \
	JNE withbeta; \
	JP withbeta; \
	STORE_ROW(Y0, Y1); \
	STORE_ROW(Y2, Y3); \
	STORE_ROW(Y4, Y5); \
	STORE_ROW(Y6, Y7); \
	STORE_ROW(Y8, Y9); \
	STORE_ROW(Y10, Y11); \
	VZEROUPPER; \
	RET; \
withbeta: \
	VBROADCASTSS beta, Y15; \
	BETA_ROW(Y0, Y1); \
	BETA_ROW(Y2, Y3); \
	BETA_ROW(Y4, Y5); \
	BETA_ROW(Y6, Y7); \
	BETA_ROW(Y8, Y9); \
	BETA_ROW(Y10, Y11); \
	VZEROUPPER; \
	RET

// func tile6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·tile6x16AVX2(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	ZERO_TILE
	TESTQ CX, CX
	JE done

loop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	STEP
	ADDQ $64, DI
	DECQ CX
	JNZ loop

done:
	EPILOGUE(alpha+40(FP), beta+44(FP))

// func tile6x16RowsAVX2(kc int, a, x *float32, rowOff *int, c *float32, ldc int, alpha, beta float32)
//
// As tile6x16AVX2 with row p of the B micro-panel at x + 4*rowOff[p].
TEXT ·tile6x16RowsAVX2(SB), NOSPLIT, $0-56
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ x+16(FP), DI
	MOVQ rowOff+24(FP), R9
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	ZERO_TILE
	TESTQ CX, CX
	JE done

loop:
	MOVQ (R9), R10
	VMOVUPS (DI)(R10*4), Y12
	VMOVUPS 32(DI)(R10*4), Y13
	PREFETCHT0 64(DI)(R10*4)
	STEP
	ADDQ $8, R9
	DECQ CX
	JNZ loop

done:
	EPILOGUE(alpha+48(FP), beta+52(FP))

// func tile6x16DirectAVX2(kc int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32)
//
// As tile6x16AVX2 with A read in place: rows a, a+lda, ..., a+5*lda.
// Rows 0-2 are addressed from SI, rows 3-5 from R12 = SI + 3*lda.
TEXT ·tile6x16DirectAVX2(SB), NOSPLIT, $0-56
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R11
	SHLQ $2, R11
	LEAQ (SI)(R11*2), R12
	ADDQ R11, R12
	MOVQ b+24(FP), DI
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	ZERO_TILE
	TESTQ CX, CX
	JE done

loop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	VBROADCASTSS (SI), Y14
	VBROADCASTSS (SI)(R11*1), Y15
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS (SI)(R11*2), Y14
	VBROADCASTSS (R12), Y15
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS (R12)(R11*1), Y14
	VBROADCASTSS (R12)(R11*2), Y15
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ $4, SI
	ADDQ $4, R12
	ADDQ $64, DI
	DECQ CX
	JNZ loop

done:
	EPILOGUE(alpha+48(FP), beta+52(FP))

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// func xgetbv0() (eax uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	RET
