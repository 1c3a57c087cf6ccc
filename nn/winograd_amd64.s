//go:build amd64 && !purego

#include "textflag.h"

// Winograd F(2x2, 3x3) transforms (Lavin and Gray, 2015), eight tiles per
// YMM register: see winograd.go for the layouts.

// func winoInput(src *float32, rowStride, oOff int, dst *float32, xiStride, srcStep, dstStep, count, half int)
//
// For each of count runs of 16 tiles: V = B^T d B of the 4x4 patches of
// four padded rows split into even (E, at src) and odd (O, at src+oOff)
// columns. Rows are rowStride bytes apart. Tiles 8-15 of a run are read
// half bytes after tiles 0-7 (32: the same rows; or further rows). Value
// xi = 4i+j of the 16 tiles goes to dst + xi*xiStride, 16 floats; each run
// moves src by srcStep bytes and dst by dstStep bytes.
//
// Rows k = 0..3: E_k at SI, SI+R8, SI+2*R8, R9; O_k at DI, DI+R8, DI+2*R8,
// R10. Outputs of one j at R12, R12+R13, R12+2*R13, R14 (R13 = 4*xiStride).
TEXT ·winoInput(SB), NOSPLIT, $0-72
	MOVQ src+0(FP), SI
	MOVQ rowStride+8(FP), R8
	MOVQ oOff+16(FP), DI
	ADDQ SI, DI
	MOVQ dst+24(FP), DX
	MOVQ xiStride+32(FP), R11
	MOVQ srcStep+40(FP), AX
	MOVQ dstStep+48(FP), BX
	MOVQ count+56(FP), CX
	LEAQ (R11*4), R13
	TESTQ CX, CX
	JE indone

inloop:
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9
	LEAQ (DI)(R8*2), R10
	ADDQ R8, R10

	// tiles 0-7
	MOVQ DX, R12
	LEAQ (R12)(R13*2), R14
	ADDQ R13, R14
	VMOVUPS 0(SI), Y0
	VSUBPS 4(SI), Y0, Y0
	VMOVUPS 0(SI)(R8*1), Y1
	VSUBPS 4(SI)(R8*1), Y1, Y1
	VMOVUPS 0(SI)(R8*2), Y2
	VSUBPS 4(SI)(R8*2), Y2, Y2
	VMOVUPS 0(R9), Y3
	VSUBPS 4(R9), Y3, Y3
	VSUBPS Y2, Y0, Y4
	VADDPS Y2, Y1, Y5
	VSUBPS Y1, Y2, Y6
	VSUBPS Y3, Y1, Y7
	VMOVUPS Y4, 0(R12)
	VMOVUPS Y5, 0(R12)(R13*1)
	VMOVUPS Y6, 0(R12)(R13*2)
	VMOVUPS Y7, 0(R14)
	ADDQ R11, R12
	ADDQ R11, R14
	VMOVUPS 0(DI), Y0
	VADDPS 4(SI), Y0, Y0
	VMOVUPS 0(DI)(R8*1), Y1
	VADDPS 4(SI)(R8*1), Y1, Y1
	VMOVUPS 0(DI)(R8*2), Y2
	VADDPS 4(SI)(R8*2), Y2, Y2
	VMOVUPS 0(R10), Y3
	VADDPS 4(R9), Y3, Y3
	VSUBPS Y2, Y0, Y4
	VADDPS Y2, Y1, Y5
	VSUBPS Y1, Y2, Y6
	VSUBPS Y3, Y1, Y7
	VMOVUPS Y4, 0(R12)
	VMOVUPS Y5, 0(R12)(R13*1)
	VMOVUPS Y6, 0(R12)(R13*2)
	VMOVUPS Y7, 0(R14)
	ADDQ R11, R12
	ADDQ R11, R14
	VMOVUPS 4(SI), Y0
	VSUBPS 0(DI), Y0, Y0
	VMOVUPS 4(SI)(R8*1), Y1
	VSUBPS 0(DI)(R8*1), Y1, Y1
	VMOVUPS 4(SI)(R8*2), Y2
	VSUBPS 0(DI)(R8*2), Y2, Y2
	VMOVUPS 4(R9), Y3
	VSUBPS 0(R10), Y3, Y3
	VSUBPS Y2, Y0, Y4
	VADDPS Y2, Y1, Y5
	VSUBPS Y1, Y2, Y6
	VSUBPS Y3, Y1, Y7
	VMOVUPS Y4, 0(R12)
	VMOVUPS Y5, 0(R12)(R13*1)
	VMOVUPS Y6, 0(R12)(R13*2)
	VMOVUPS Y7, 0(R14)
	ADDQ R11, R12
	ADDQ R11, R14
	VMOVUPS 0(DI), Y0
	VSUBPS 4(DI), Y0, Y0
	VMOVUPS 0(DI)(R8*1), Y1
	VSUBPS 4(DI)(R8*1), Y1, Y1
	VMOVUPS 0(DI)(R8*2), Y2
	VSUBPS 4(DI)(R8*2), Y2, Y2
	VMOVUPS 0(R10), Y3
	VSUBPS 4(R10), Y3, Y3
	VSUBPS Y2, Y0, Y4
	VADDPS Y2, Y1, Y5
	VSUBPS Y1, Y2, Y6
	VSUBPS Y3, Y1, Y7
	VMOVUPS Y4, 0(R12)
	VMOVUPS Y5, 0(R12)(R13*1)
	VMOVUPS Y6, 0(R12)(R13*2)
	VMOVUPS Y7, 0(R14)
	// tiles 8-15, half bytes on
	ADDQ half+64(FP), SI
	ADDQ half+64(FP), DI
	ADDQ half+64(FP), R9
	ADDQ half+64(FP), R10
	MOVQ DX, R12
	LEAQ (R12)(R13*2), R14
	ADDQ R13, R14
	VMOVUPS 0(SI), Y0
	VSUBPS 4(SI), Y0, Y0
	VMOVUPS 0(SI)(R8*1), Y1
	VSUBPS 4(SI)(R8*1), Y1, Y1
	VMOVUPS 0(SI)(R8*2), Y2
	VSUBPS 4(SI)(R8*2), Y2, Y2
	VMOVUPS 0(R9), Y3
	VSUBPS 4(R9), Y3, Y3
	VSUBPS Y2, Y0, Y4
	VADDPS Y2, Y1, Y5
	VSUBPS Y1, Y2, Y6
	VSUBPS Y3, Y1, Y7
	VMOVUPS Y4, 32(R12)
	VMOVUPS Y5, 32(R12)(R13*1)
	VMOVUPS Y6, 32(R12)(R13*2)
	VMOVUPS Y7, 32(R14)
	ADDQ R11, R12
	ADDQ R11, R14
	VMOVUPS 0(DI), Y0
	VADDPS 4(SI), Y0, Y0
	VMOVUPS 0(DI)(R8*1), Y1
	VADDPS 4(SI)(R8*1), Y1, Y1
	VMOVUPS 0(DI)(R8*2), Y2
	VADDPS 4(SI)(R8*2), Y2, Y2
	VMOVUPS 0(R10), Y3
	VADDPS 4(R9), Y3, Y3
	VSUBPS Y2, Y0, Y4
	VADDPS Y2, Y1, Y5
	VSUBPS Y1, Y2, Y6
	VSUBPS Y3, Y1, Y7
	VMOVUPS Y4, 32(R12)
	VMOVUPS Y5, 32(R12)(R13*1)
	VMOVUPS Y6, 32(R12)(R13*2)
	VMOVUPS Y7, 32(R14)
	ADDQ R11, R12
	ADDQ R11, R14
	VMOVUPS 4(SI), Y0
	VSUBPS 0(DI), Y0, Y0
	VMOVUPS 4(SI)(R8*1), Y1
	VSUBPS 0(DI)(R8*1), Y1, Y1
	VMOVUPS 4(SI)(R8*2), Y2
	VSUBPS 0(DI)(R8*2), Y2, Y2
	VMOVUPS 4(R9), Y3
	VSUBPS 0(R10), Y3, Y3
	VSUBPS Y2, Y0, Y4
	VADDPS Y2, Y1, Y5
	VSUBPS Y1, Y2, Y6
	VSUBPS Y3, Y1, Y7
	VMOVUPS Y4, 32(R12)
	VMOVUPS Y5, 32(R12)(R13*1)
	VMOVUPS Y6, 32(R12)(R13*2)
	VMOVUPS Y7, 32(R14)
	ADDQ R11, R12
	ADDQ R11, R14
	VMOVUPS 0(DI), Y0
	VSUBPS 4(DI), Y0, Y0
	VMOVUPS 0(DI)(R8*1), Y1
	VSUBPS 4(DI)(R8*1), Y1, Y1
	VMOVUPS 0(DI)(R8*2), Y2
	VSUBPS 4(DI)(R8*2), Y2, Y2
	VMOVUPS 0(R10), Y3
	VSUBPS 4(R10), Y3, Y3
	VSUBPS Y2, Y0, Y4
	VADDPS Y2, Y1, Y5
	VSUBPS Y1, Y2, Y6
	VSUBPS Y3, Y1, Y7
	VMOVUPS Y4, 32(R12)
	VMOVUPS Y5, 32(R12)(R13*1)
	VMOVUPS Y6, 32(R12)(R13*2)
	VMOVUPS Y7, 32(R14)
	SUBQ half+64(FP), SI
	SUBQ half+64(FP), DI
	ADDQ AX, SI
	ADDQ AX, DI
	ADDQ BX, DX
	DECQ CX
	JNZ inloop

indone:
	VZEROUPPER
	RET

// func winoOutput(m *float32, xiStride int, dst *float32, dstRow int, groups int, scale, shift, slope float32, act bool)
//
// For each of groups runs of 8 tiles: Y = A^T M A from the 16 values at
// m + xi*xiStride, then y*scale + shift and, with act, LeakyReLU(slope);
// the 2x2 outputs go to two rows of dst, dstRow bytes apart, 16 floats
// each. Each run moves m by 32 bytes and dst by 64.
//
// m + xi*xiStride for xi = 4i+j: R12 = m + j*xiStride, then R12, R12+R13,
// R12+2*R13, R14 (R13 = 4*xiStride, R14 = R12 + 3*R13).
TEXT ·winoOutput(SB), NOSPLIT, $0-53
	MOVQ m+0(FP), SI
	MOVQ xiStride+8(FP), R11
	MOVQ dst+16(FP), DX
	MOVQ dstRow+24(FP), R8
	MOVQ groups+32(FP), CX
	VBROADCASTSS scale+40(FP), Y12
	VBROADCASTSS shift+44(FP), Y13
	VBROADCASTSS slope+48(FP), Y14
	MOVBLZX act+52(FP), BX
	LEAQ (R11*4), R13
	TESTQ CX, CX
	JE outdone

outloop:
	MOVQ SI, R12
	LEAQ (R12)(R13*2), R14
	ADDQ R13, R14

	VMOVUPS (R12)(R13*1), Y8
	VMOVUPS (R12)(R13*2), Y9
	VADDPS (R12), Y8, Y0
	VADDPS Y9, Y0, Y0
	VSUBPS Y9, Y8, Y4
	VSUBPS (R14), Y4, Y4
	ADDQ R11, R12
	ADDQ R11, R14
	VMOVUPS (R12)(R13*1), Y8
	VMOVUPS (R12)(R13*2), Y9
	VADDPS (R12), Y8, Y1
	VADDPS Y9, Y1, Y1
	VSUBPS Y9, Y8, Y5
	VSUBPS (R14), Y5, Y5
	ADDQ R11, R12
	ADDQ R11, R14
	VMOVUPS (R12)(R13*1), Y8
	VMOVUPS (R12)(R13*2), Y9
	VADDPS (R12), Y8, Y2
	VADDPS Y9, Y2, Y2
	VSUBPS Y9, Y8, Y6
	VSUBPS (R14), Y6, Y6
	ADDQ R11, R12
	ADDQ R11, R14
	VMOVUPS (R12)(R13*1), Y8
	VMOVUPS (R12)(R13*2), Y9
	VADDPS (R12), Y8, Y3
	VADDPS Y9, Y3, Y3
	VSUBPS Y9, Y8, Y7
	VSUBPS (R14), Y7, Y7
	// y00 = s0+s1+s2 (Y8), y01 = s1-s2-s3 (Y9), y10 = d0+d1+d2 (Y10), y11 = d1-d2-d3 (Y11)
	VADDPS Y1, Y0, Y8
	VADDPS Y2, Y8, Y8
	VSUBPS Y2, Y1, Y9
	VSUBPS Y3, Y9, Y9
	VADDPS Y5, Y4, Y10
	VADDPS Y6, Y10, Y10
	VSUBPS Y6, Y5, Y11
	VSUBPS Y7, Y11, Y11
	VFMADD213PS Y13, Y12, Y8
	VFMADD213PS Y13, Y12, Y9
	VFMADD213PS Y13, Y12, Y10
	VFMADD213PS Y13, Y12, Y11
	TESTQ BX, BX
	JE noact
	VMULPS Y14, Y8, Y0
	VBLENDVPS Y8, Y0, Y8, Y8
	VMULPS Y14, Y9, Y0
	VBLENDVPS Y9, Y0, Y9, Y9
	VMULPS Y14, Y10, Y0
	VBLENDVPS Y10, Y0, Y10, Y10
	VMULPS Y14, Y11, Y0
	VBLENDVPS Y11, Y0, Y11, Y11

noact:
	// Interleave y00, y01 into output row 0 and y10, y11 into row 1.
	VUNPCKLPS Y9, Y8, Y0
	VUNPCKHPS Y9, Y8, Y1
	VPERM2F128 $0x20, Y1, Y0, Y2
	VPERM2F128 $0x31, Y1, Y0, Y3
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	VUNPCKLPS Y11, Y10, Y0
	VUNPCKHPS Y11, Y10, Y1
	VPERM2F128 $0x20, Y1, Y0, Y2
	VPERM2F128 $0x31, Y1, Y0, Y3
	VMOVUPS Y2, (DX)(R8*1)
	VMOVUPS Y3, 32(DX)(R8*1)
	ADDQ $32, SI
	ADDQ $64, DX
	DECQ CX
	JNZ outloop

outdone:
	VZEROUPPER
	RET
