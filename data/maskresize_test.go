package data

import (
	"strings"
	"testing"
)

func floatMaskString(m []float32, side int) string {
	var b strings.Builder
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			b.WriteByte('0' + byte(m[y*side+x]))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func binaryMask(rows ...string) (m []uint8, ch, cw int) {
	for _, r := range rows {
		for _, c := range r {
			m = append(m, uint8(c-'0'))
		}
	}
	return m, len(rows), len(rows[0])
}

func TestResizeMask(t *testing.T) {
	// Values worked by hand from scikit-image 0.14's resize (bilinear,
	// input coordinate (i + 0.5) * in/out - 0.5, 0 outside, clipped to the
	// input's range) and the release's > 128 threshold.
	tests := []struct {
		name string
		rows []string
		m    int
		want string
	}{
		{
			// 8 -> 4: output column j reads input 2j + 0.5, halfway between
			// two input columns; the centre 4x4 block survives as 2x2.
			"centre block, 8 to 4",
			[]string{"00000000", "00000000", "00111100", "00111100", "00111100", "00111100", "00000000", "00000000"},
			4,
			"0000\n0110\n0110\n0000\n",
		},
		{
			// 8 -> 16: column 7 reads 3.25 (0.75 of a 1: 191), column 8
			// reads 3.75 (64); the corner reads -0.25 in both axes:
			// 0.75 * 0.75 * 255 = 143 > 128.
			"left half, 8 to 16",
			[]string{"11110000", "11110000", "11110000", "11110000", "11110000", "11110000", "11110000", "11110000"},
			16,
			strings.Repeat("1111111100000000\n", 16),
		},
		{
			// A single pixel to 4x4: corners read -0.375 in both axes,
			// 0.625^2 * 255 = 100, but the crop is all ones, so the clip
			// to [255, 255] raises every pixel.
			"all ones, 1 to 4",
			[]string{"1"},
			4,
			"1111\n1111\n1111\n1111\n",
		},
		{
			// No clip here (the input holds a 0): 3x3 with a 0 at the far
			// corner, to 4x4. Outputs read -0.125, 0.625, 1.375, 2.125. The
			// near corner: 0.875^2 * 255 = 195 > 128. The far corner reads
			// only the 0 and the outside: 0. Its neighbour (row 2, col 3)
			// reads rows 1 and 2 at 0.625 and 0.375 and column 2 at 0.875:
			// 0.625 * 0.875 * 255 = 139 > 128.
			"one zero, 3 to 4",
			[]string{"111", "111", "110"},
			4,
			"1111\n1111\n1111\n1110\n",
		},
		{"empty crop", nil, 2, "00\n00\n"},
	}
	for _, tc := range tests {
		var src []uint8
		ch, cw := 0, 0
		if tc.rows != nil {
			src, ch, cw = binaryMask(tc.rows...)
		}
		dst := make([]float32, tc.m*tc.m)
		for i := range dst {
			dst[i] = 7 // must be overwritten
		}
		resizeMask(dst, src, ch, cw, tc.m)
		if got := floatMaskString(dst, tc.m); got != tc.want {
			t.Errorf("%s:\n%swant\n%s", tc.name, got, tc.want)
		}
	}
}
