package data

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestDecodeRLEString(t *testing.T) {
	// Hand-encoded with pycocotools' rule: 6-bit characters from '0', bit
	// 0x20 continues a number, bit 0x10 of its last group is the sign, and
	// from the fourth count on a count is stored as the difference from the
	// count two places before.
	tests := []struct {
		s    string
		h, w int
		want []uint32
	}{
		{"352", 2, 5, []uint32{3, 5, 2}},
		{"3522", 4, 5, []uint32{3, 5, 2, 7}}, // 7 stored as 7-5 = 2
		{"352L", 4, 5, []uint32{3, 5, 2, 1}}, // 1-5 = -4: 0b11100 = 28, 'L'
		{"T3", 10, 10, []uint32{100}},        // 100 = 4 + 3<<5: 'T' (4|0x20) then '3'
		{"d0", 4, 5, []uint32{20}},           // 20 has bit 0x10 set, so a 0 group follows
		{"", 3, 3, nil},                      // no counts: an empty mask
		{"0T3", 10, 10, []uint32{0, 100}},    // a mask starting with ones
	}
	for _, tc := range tests {
		r, err := decodeRLEString(tc.s, tc.h, tc.w)
		if err != nil {
			t.Errorf("%q: %v", tc.s, err)
			continue
		}
		if !slices.Equal(r.counts, tc.want) {
			t.Errorf("%q: counts %v, want %v", tc.s, r.counts, tc.want)
		}
		if got := EncodeRLE(tc.want); got != tc.s {
			t.Errorf("encode %v = %q, want %q", tc.want, got, tc.s)
		}
	}
}

func TestDecodeRLEStringErrors(t *testing.T) {
	tests := []struct {
		s    string
		h, w int
		msg  string
	}{
		{"3", 1, 2, "outside"},             // 3 > 2 pixels
		{"32", 2, 2, "sum"},                // 3 + 2 > 4
		{"0:00000", 5, 2, "sum"},           // 0, 10, 0, then by differences 10, 0, 10
		{"L", 4, 5, "outside"},             // -4
		{"T", 4, 5, "ends inside"},         // continuation without an end
		{"p", 4, 5, "characters"},          // 'p' is 112, past 'o'
		{" ", 4, 5, "characters"},          //
		{"TTTTTTTT3", 4, 5, "longer than"}, // more than 35 bits
		{"3", 100000, 100000, "mask size"}, // absurd size
		{"3", 0, 5, "mask size"},
	}
	for _, tc := range tests {
		_, err := decodeRLEString(tc.s, tc.h, tc.w)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q %dx%d: error %v, want one containing %q", tc.s, tc.h, tc.w, err, tc.msg)
		}
	}
}

func TestRLEStringRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for it := 0; it < 200; it++ {
		n := rng.IntN(20)
		counts := make([]uint32, n)
		var sum uint32
		for i := range counts {
			counts[i] = uint32(rng.IntN(1 << uint(rng.IntN(20))))
			sum += counts[i]
		}
		h := 1024
		w := int(sum)/h + 1
		r, err := decodeRLEString(EncodeRLE(counts), h, w)
		if err != nil {
			t.Fatalf("%v: %v", counts, err)
		}
		if !slices.Equal(r.counts, counts) && !(n == 0 && r.counts == nil) {
			t.Fatalf("round trip of %v gave %v", counts, r.counts)
		}
	}
}

// maskString renders a ch x cw mask as rows of 0 and 1.
func maskString(m []uint8, ch, cw int) string {
	var b strings.Builder
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			b.WriteByte('0' + m[y*cw+x])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func fullCrop(t *testing.T, raw string, h, w int) string {
	t.Helper()
	seg, err := parseSegmentation([]byte(raw))
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	m, ch, cw, err := seg.crop(h, w, 0, 0, w, h)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return maskString(m, ch, cw)
}

func TestUncompressedRLE(t *testing.T) {
	// Column-major: pixels 0, 1 are 0; 2, 3, 4 are 1; 5 is 0. Index x*h + y
	// with h = 2: (col 1, row 0), (col 1, row 1), (col 2, row 0).
	got := fullCrop(t, `{"counts": [2, 3, 1], "size": [2, 3]}`, 99, 99)
	if want := "011\n010\n"; got != want {
		t.Errorf("mask\n%swant\n%s", got, want)
	}
	// Counts short of h*w leave the rest 0; a list of RLEs is merged.
	got = fullCrop(t, `[{"counts": [0, 1], "size": [2, 2]}, {"counts": [3, 1], "size": [2, 2]}]`, 99, 99)
	if want := "10\n01\n"; got != want {
		t.Errorf("merged mask\n%swant\n%s", got, want)
	}
}

func TestPolygonRectangle(t *testing.T) {
	// An integer rectangle fills exactly its pixels: columns 4..13 and rows
	// 4..15 for x in [4, 14], y in [4, 16].
	seg, err := parseSegmentation([]byte(`[[4, 4, 14, 4, 14, 16, 4, 16]]`))
	if err != nil {
		t.Fatal(err)
	}
	m, ch, cw, err := seg.crop(30, 40, 0, 0, 40, 30)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			want := uint8(0)
			if x >= 4 && x <= 13 && y >= 4 && y <= 15 {
				want = 1
			}
			if m[y*cw+x] != want {
				t.Fatalf("pixel (x %d, y %d) = %d, want %d", x, y, m[y*cw+x], want)
			}
		}
	}
	// A half-pixel rectangle, worked through rleFrPoly by hand: x 0.5..3.5
	// becomes 3..18 at 5x; a column c is sampled where the walk steps onto
	// 5c+2 (going right: from 5c+2 to 5c+3, so c = 1, 2, 3; column 0 would
	// need the step 2 -> 3, which starts before the outline). y 0.5 and 2.5
	// become 3 and 13, that is row boundaries ceil(0.2) = 1 and
	// ceil(2.2) = 3: rows 1 and 2.
	got := fullCrop(t, `[[0.5, 0.5, 3.5, 0.5, 3.5, 2.5, 0.5, 2.5]]`, 4, 5)
	if want := "00000\n01110\n01110\n00000\n"; got != want {
		t.Errorf("half-pixel rectangle\n%swant\n%s", got, want)
	}
	// The 4-number quirk: [[x, y, w, h]] is a box.
	got = fullCrop(t, `[[1, 2, 3, 1]]`, 4, 5)
	if want := "00000\n00000\n01110\n00000\n"; got != want {
		t.Errorf("box segmentation\n%swant\n%s", got, want)
	}
	// Two polygons are merged; the crop window clips.
	seg, err = parseSegmentation([]byte(`[[0, 0, 2, 0, 2, 2, 0, 2], [3, 2, 5, 2, 5, 4, 3, 4]]`))
	if err != nil {
		t.Fatal(err)
	}
	m, ch, cw, err = seg.crop(4, 5, 1, 1, 9, 9)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := maskString(m, ch, cw), "1000\n0011\n0011\n"; got != want {
		t.Errorf("merged, cropped at (1, 1)\n%swant\n%s", got, want)
	}
}

func TestPolygonTriangle(t *testing.T) {
	// A right triangle with legs on the top and left edges: the diagonal
	// pixels split, the rest is plain.
	seg, err := parseSegmentation([]byte(`[[0, 0, 8, 0, 0, 8]]`))
	if err != nil {
		t.Fatal(err)
	}
	m, ch, cw, err := seg.crop(8, 8, 0, 0, 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			if x+y < 7 && m[y*cw+x] != 1 || x+y > 7 && m[y*cw+x] != 0 {
				t.Fatalf("triangle mask\n%s", maskString(m, ch, cw))
			}
		}
	}
}

func TestSegmentationErrors(t *testing.T) {
	tests := []struct{ raw, msg string }{
		{`null`, "no segmentation"},
		{`"abc"`, "neither"},
		{`[[1, 2]]`, "at least 3 points"},
		{`[[1, 2, 3, 4], [1, 2, 3]]`, "4-number box"},
		{`[[0, 0, 1e12, 0, 0, 5]]`, "finite number"},
		{`[[0, 0, 1e7, 0, 0, 5]]`, "too large"},
		{`{"counts": [1, 2], "size": [3]}`, "want [height, width]"},
		{`{"counts": [5, 5], "size": [2, 2]}`, "outside"},
		{`{"counts": [2, 2, 1], "size": [2, 2]}`, "sum"},
		{`{"counts": [-1], "size": [2, 2]}`, "outside"},
		{`{"counts": [1.5], "size": [2, 2]}`, "integers"},
		{`{"counts": "", "size": [100000, 100000]}`, "mask size"},
		{`{"size": [2, 2]}`, "no counts"},
		{`[{"counts": [4], "size": [2, 2]}, {"counts": [6], "size": [2, 3]}]`, "cannot be merged"},
	}
	for _, tc := range tests {
		seg, err := parseSegmentation([]byte(tc.raw))
		if err == nil {
			_, _, _, err = seg.crop(10, 10, 0, 0, 10, 10)
		}
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want one containing %q", tc.raw, err, tc.msg)
		}
	}
	// An empty list is an empty mask.
	if got := fullCrop(t, `[]`, 2, 2); got != "00\n00\n" {
		t.Errorf("empty segmentation gave\n%s", got)
	}
}

// fixtureSegmentations lists the segmentation values of the COCO fixture
// files, as fuzz seeds.
func fixtureSegmentations(t testing.TB) []string {
	var out []string
	for _, f := range []string{"testdata/coco/instances.json", "testdata/coco/stuff.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Annotations []struct {
				Segmentation json.RawMessage `json:"segmentation"`
			} `json:"annotations"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, a := range doc.Annotations {
			out = append(out, string(a.Segmentation))
		}
	}
	return out
}

func FuzzRLE(f *testing.F) {
	for _, s := range fixtureSegmentations(f) {
		var r struct {
			Counts string `json:"counts"`
			Size   []int  `json:"size"`
		}
		if json.Unmarshal([]byte(s), &r) == nil && len(r.Size) == 2 {
			f.Add(r.Counts, r.Size[0], r.Size[1])
		}
	}
	for _, s := range []string{"352", "3522", "352L", "T3", "d0", "TTTTTTTT3", "p"} {
		f.Add(s, 4, 30)
	}
	f.Fuzz(func(t *testing.T, s string, h, w int) {
		r, err := decodeRLEString(s, h, w)
		if err != nil {
			return
		}
		var sum uint64
		for _, c := range r.counts {
			sum += uint64(c)
		}
		if sum > uint64(h*w) {
			t.Fatalf("counts sum to %d for a %dx%d mask", sum, h, w)
		}
		if EncodeRLE(r.counts) != s && len(s) < 64 {
			// Encodings are not unique (a number may carry extra groups),
			// but decoding the canonical one must give the same counts.
			r2, err := decodeRLEString(EncodeRLE(r.counts), h, w)
			if err != nil || !slices.Equal(r2.counts, r.counts) {
				t.Fatalf("re-encoding %v failed: %v", r.counts, err)
			}
		}
		cw, ch := min(w, 16), min(h, 16)
		r.orCrop(make([]uint8, cw*ch), max(w-cw, 0)/2, max(h-ch, 0)/2, cw, ch)
	})
}

func FuzzSegmentation(f *testing.F) {
	for _, s := range fixtureSegmentations(f) {
		f.Add([]byte(s), 40, 30, 4, 4, 14, 16)
	}
	f.Add([]byte(`[[0, 0, 8, 0, 0, 8], [1, 1, 2]]`), 8, 8, 0, 0, 8, 8)
	f.Add([]byte(`[[0, 0, 1e6, 0, 0, 5]]`), 8, 8, 0, 0, 8, 8)
	f.Add([]byte(`[[-5, -5, 3, 40, 50, 2, 7, 7]]`), 30, 20, -3, 2, 200, 9)
	f.Fuzz(func(t *testing.T, raw []byte, h, w, x0, y0, x1, y1 int) {
		seg, err := parseSegmentation(raw)
		if err != nil {
			return
		}
		// Keep the crop window small so the fuzzer spends its time on the
		// parsers, not on filling big masks.
		x1, y1 = min(x1, x0+64), min(y1, y0+64)
		m, ch, cw, err := seg.crop(h, w, x0, y0, x1, y1)
		if err != nil {
			return
		}
		if len(m) != ch*cw || ch < 0 || cw < 0 {
			t.Fatalf("crop gave %d values for %dx%d", len(m), ch, cw)
		}
		for _, v := range m {
			if v > 1 {
				t.Fatalf("mask value %d", v)
			}
		}
	})
}

func FuzzPolygon(f *testing.F) {
	f.Add([]byte{4, 4, 14, 4, 14, 16, 4, 16}, 30, 40)
	f.Add([]byte{0, 0, 255, 0, 0, 255, 128, 3}, 64, 64)
	f.Fuzz(func(t *testing.T, coords []byte, h, w int) {
		if len(coords) > 256 {
			return
		}
		// Coordinates in tenths of a pixel, from -12.8 to 12.7 around each
		// step of 8 pixels, so that polygons reach outside small masks.
		xy := make([]float64, len(coords))
		for i, c := range coords {
			xy[i] = float64(int8(c))/10 + float64(8*(i%8))
		}
		r, err := polygonRLE(xy, h, w)
		if err != nil {
			return
		}
		var sum uint64
		for _, c := range r.counts {
			sum += uint64(c)
		}
		if sum != uint64(h*w) {
			t.Fatalf("polygon counts sum to %d, want %d", sum, h*w)
		}
	})
}
