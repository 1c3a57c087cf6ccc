package weights

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// size is the number of bytes of one element, 0 for an unknown dtype.
func (d DType) size() int {
	switch d {
	case F64, I64, U64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case I8, U8, BOOL:
		return 1
	}
	return 0
}

// isFloat reports whether d holds floating-point values.
func (d DType) isFloat() bool { return d == F32 || d == F64 || d == F16 || d == BF16 }

// littleEndian reports whether this machine stores numbers as safetensors
// and PyTorch files do.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// decode converts len(dst) little-endian elements of type d from src, which
// must hold at least len(dst)*d.size() bytes.
func decode(dst []float32, src []byte, d DType) {
	le := binary.LittleEndian
	switch d {
	case F32:
		if littleEndian && len(dst) > 0 {
			// The bytes are already float32s in this machine's order: one
			// copy instead of a conversion per value, which took ~20% of
			// loading a model compiled to WebAssembly.
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), src[:4*len(dst)])
			return
		}
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(src[8*i:])))
		}
	case F16:
		for i := range dst {
			dst[i] = halfToFloat(le.Uint16(src[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(le.Uint16(src[2*i:])) << 16)
		}
	case I64:
		for i := range dst {
			dst[i] = float32(int64(le.Uint64(src[8*i:])))
		}
	case U64:
		for i := range dst {
			dst[i] = float32(le.Uint64(src[8*i:]))
		}
	case I32:
		for i := range dst {
			dst[i] = float32(int32(le.Uint32(src[4*i:])))
		}
	case U32:
		for i := range dst {
			dst[i] = float32(le.Uint32(src[4*i:]))
		}
	case I16:
		for i := range dst {
			dst[i] = float32(int16(le.Uint16(src[2*i:])))
		}
	case U16:
		for i := range dst {
			dst[i] = float32(le.Uint16(src[2*i:]))
		}
	case I8:
		for i := range dst {
			dst[i] = float32(int8(src[i]))
		}
	case U8:
		for i := range dst {
			dst[i] = float32(src[i])
		}
	case BOOL:
		for i := range dst {
			if src[i] != 0 {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
		}
	default:
		panic("weights: decode of unknown dtype " + string(d))
	}
}

// halfToFloat widens an IEEE 754 binary16 value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp != 0: // normal: rebias the exponent from 15 to 127
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// subnormal: frac * 2^-24
	v := float32(frac) / (1 << 24)
	if sign != 0 {
		v = -v
	}
	return v
}

// floatToHalf rounds f to the nearest IEEE 754 binary16 value (ties to
// even); ok is false when a finite f is beyond binary16's range. A NaN
// keeps its sign and the top of its payload, so every binary16 value read
// by halfToFloat comes back bit for bit.
func floatToHalf(f float32) (h uint16, ok bool) {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00, true
		}
		if p := uint16(mant >> 13); p != 0 {
			return sign | 0x7c00 | p, true
		}
		return sign | 0x7e00, true // a payload only in the low bits: a quiet NaN
	}
	e := exp - 127 + 15
	if e <= 0 { // a subnormal binary16, or zero
		shift := uint(14 - e)
		if shift > 24 {
			return sign, true // below half the smallest subnormal
		}
		return sign | uint16(roundShift(mant|0x800000, shift)), true
	}
	v := roundShift(uint32(e)<<23|mant, 13) // a carry moves into the exponent, as it should
	if v >= 0x7c00 {
		return sign | 0x7c00, false
	}
	return sign | uint16(v), true
}

// roundShift is m >> shift rounded to nearest, ties to even.
func roundShift(m uint32, shift uint) uint32 {
	q, rem, half := m>>shift, m&(1<<shift-1), uint32(1)<<(shift-1)
	if rem > half || rem == half && q&1 == 1 {
		q++
	}
	return q
}

// floatToBF16 rounds f to the nearest bfloat16 (ties to even); ok is false
// when a finite f rounds to infinity. NaNs are kept as floatToHalf keeps
// them.
func floatToBF16(f float32) (h uint16, ok bool) {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		if p := uint16(b >> 16); p&0x7f != 0 {
			return p, true
		}
		return uint16(b>>16) | 0x40, true
	}
	v := uint16(roundShift(b&0x7fffffff, 16)) | uint16(b>>16)&0x8000
	return v, v&0x7fff != 0x7f80 || b&0x7fffffff == 0x7f800000
}
