package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Size guards, checked before anything is allocated from a size read in a
// file. Real data is far below them: COCO images are at most 640 pixels a
// side and Visual Genome's at most about 1280.
const (
	// maxSide is the largest image or mask side accepted; 2^15 keeps h*w
	// inside the 32-bit counts of a COCO RLE.
	maxSide = 1 << 15
	// maxPixels is the largest image or mask area accepted: 2^26 pixels is
	// 192 MiB as RGB bytes.
	maxPixels = 1 << 26
	// maxPolygonWork bounds the boundary points pycocotools would walk for
	// one polygon (its edges drawn at 5x resolution): 2^24 points take
	// about 0.1 s; a polygon with absurd coordinates asks for far more.
	maxPolygonWork = 1 << 24
)

// rle is a COCO run-length mask: counts alternate runs of 0 and of 1,
// starting with 0, over an h x w mask in column-major order (pixel (x, y)
// has index x*h + y). The counts sum to at most h*w; pixels past the sum
// are 0.
type rle struct {
	h, w   int
	counts []uint32
}

// checkMaskSize validates a mask's height and width.
func checkMaskSize(h, w int) error {
	if h <= 0 || w <= 0 || h > maxSide || w > maxSide || h*w > maxPixels {
		return fmt.Errorf("mask size %dx%d (height x width) is outside 1..%d a side and %d pixels", h, w, maxSide, maxPixels)
	}
	return nil
}

// newRLE checks counts against the mask size.
func newRLE(h, w int, counts []uint32) (rle, error) {
	if err := checkMaskSize(h, w); err != nil {
		return rle{}, err
	}
	var sum uint64
	for _, c := range counts {
		sum += uint64(c)
	}
	if sum > uint64(h)*uint64(w) {
		return rle{}, fmt.Errorf("RLE counts sum to %d, more than the %dx%d = %d pixels of the mask", sum, h, w, h*w)
	}
	return rle{h: h, w: w, counts: counts}, nil
}

// decodeRLEString reads COCO's compressed RLE string (pycocotools
// rleFrString): each count is a little-endian sequence of 5-bit groups, one
// character per group (character - 48), bit 0x20 meaning "more groups
// follow" and bit 0x10 of the last group the sign; from the fourth count on,
// the value is a difference from the count two places before.
func decodeRLEString(s string, h, w int) (rle, error) {
	if err := checkMaskSize(h, w); err != nil {
		return rle{}, err
	}
	var counts []uint32
	limit := int64(h) * int64(w)
	for p := 0; p < len(s); {
		var x int64
		for k := 0; ; k++ {
			if p >= len(s) {
				return rle{}, fmt.Errorf("RLE string ends inside a number (at byte %d)", p)
			}
			ch := s[p]
			// Valid characters are '0' (48) to 'o' (111): 6 bits each.
			if ch < 48 || ch > 111 {
				return rle{}, fmt.Errorf("RLE string has byte %q at %d; want characters '0' to 'o'", ch, p)
			}
			// Seven groups carry 35 bits, enough for any 32-bit count or
			// difference; pycocotools overflows past that.
			if k >= 7 {
				return rle{}, fmt.Errorf("RLE string has a number longer than 7 characters at byte %d", p)
			}
			c := int64(ch - 48)
			x |= (c & 0x1f) << (5 * k)
			p++
			if c&0x20 == 0 {
				if c&0x10 != 0 {
					x |= -1 << (5 * (k + 1))
				}
				break
			}
		}
		if m := len(counts); m > 2 {
			x += int64(counts[m-2])
		}
		if x < 0 || x > limit {
			return rle{}, fmt.Errorf("RLE count %d (count %d) is outside 0..%d for a %dx%d mask", x, len(counts), limit, h, w)
		}
		counts = append(counts, uint32(x))
	}
	return newRLE(h, w, counts)
}

// polygonRLE rasterises one polygon (x0, y0, x1, y1, ...) in pixel
// coordinates into an h x w mask as pycocotools rleFrPoly does: the
// vertices are scaled by 5 and rounded, each edge is walked one step per
// unit of its longer axis, and wherever the walk moves from one column to
// the next at a position that falls on a pixel column, the row boundary
// there (rounded up) toggles the mask down that column. Toggles are counted
// in column-major order, so the result is an even-odd fill sampled near
// pixel centres.
func polygonRLE(xy []float64, h, w int) (rle, error) {
	if err := checkMaskSize(h, w); err != nil {
		return rle{}, err
	}
	const scale = 5 // pycocotools' upsampling factor
	k := len(xy) / 2
	x := make([]int, k+1)
	y := make([]int, k+1)
	for j := 0; j < k; j++ {
		for i, dst := range [2][]int{x, y} {
			v := xy[2*j+i]
			// C casts scale*v + .5 to int (truncating); keep it in range.
			if math.IsNaN(v) || math.Abs(scale*v+.5) >= 1<<30 {
				return rle{}, fmt.Errorf("polygon coordinate %v is not a finite number of reasonable size", v)
			}
			dst[j] = int(scale*v + .5)
		}
	}
	if k == 0 {
		return rle{h: h, w: w, counts: []uint32{uint32(h * w)}}, nil
	}
	x[k], y[k] = x[0], y[0]
	work := 0
	for j := 0; j < k; j++ {
		work += max(abs(x[j]-x[j+1]), abs(y[j]-y[j+1])) + 1
		if work > maxPolygonWork {
			return rle{}, fmt.Errorf("polygon is too large: its outline at 5x resolution exceeds %d points (are its coordinates in pixels of a %dx%d image?)", maxPolygonWork, w, h)
		}
	}
	// Walk the outline keeping only the previous point, and collect the
	// column-major positions of the row boundaries.
	var toggles []int64
	havePrev := false
	var pu, pv int
	visit := func(u, v int) {
		if havePrev && u != pu {
			xd := float64(u - 1)
			if u < pu {
				xd = float64(u)
			}
			xd = (xd+.5)/scale - .5
			if math.Floor(xd) == xd && xd >= 0 && xd <= float64(w-1) {
				yd := float64(min(v, pv))
				yd = (yd+.5)/scale - .5
				yd = math.Ceil(max(0, min(float64(h), yd)))
				toggles = append(toggles, int64(xd)*int64(h)+int64(yd))
			}
		}
		pu, pv, havePrev = u, v, true
	}
	for j := 0; j < k; j++ {
		xs, xe, ys, ye := x[j], x[j+1], y[j], y[j+1]
		dx, dy := abs(xe-xs), abs(ys-ye)
		flip := (dx >= dy && xs > xe) || (dx < dy && ys > ye)
		if flip {
			xs, xe = xe, xs
			ys, ye = ye, ys
		}
		if dx == 0 && dy == 0 {
			// pycocotools computes 0/0 here; the single point's row is
			// never read because its neighbours share its column.
			visit(xs, ys)
			continue
		}
		if dx >= dy {
			s := float64(ye-ys) / float64(dx)
			for d := 0; d <= dx; d++ {
				t := d
				if flip {
					t = dx - d
				}
				visit(t+xs, int(float64(ys)+s*float64(t)+.5))
			}
		} else {
			s := float64(xe-xs) / float64(dy)
			for d := 0; d <= dy; d++ {
				t := d
				if flip {
					t = dy - d
				}
				visit(int(float64(xs)+s*float64(t)+.5), t+ys)
			}
		}
	}
	return rle{h: h, w: w, counts: togglesToCounts(toggles, int64(h)*int64(w))}, nil
}

// togglesToCounts turns positions where the mask flips (a position listed
// twice flips it back) into RLE counts over n pixels, as pycocotools does
// by sorting, differencing and merging zero-length runs.
func togglesToCounts(toggles []int64, n int64) []uint32 {
	slices.Sort(toggles)
	var counts []uint32
	prev := int64(0)
	for i := 0; i < len(toggles); {
		p := toggles[i]
		j := i
		for j < len(toggles) && toggles[j] == p {
			j++
		}
		if (j-i)%2 == 1 && p < n {
			counts = append(counts, uint32(p-prev))
			prev = p
		}
		i = j
	}
	return append(counts, uint32(n-prev))
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// orCrop ORs the part of r inside rows [y0, y0+ch) and columns
// [x0, x0+cw) into dst, a ch x cw row-major mask. It walks the runs, so it
// never allocates the full mask.
func (r rle) orCrop(dst []uint8, x0, y0, cw, ch int) {
	if cw <= 0 || ch <= 0 {
		return
	}
	h := int64(r.h)
	pos := int64(0)
	for i, c := range r.counts {
		start, end := pos, pos+int64(c)
		pos = end
		if i%2 == 0 || start == end {
			continue
		}
		firstCol, lastCol := start/h, (end-1)/h
		for col := max(firstCol, int64(x0)); col <= lastCol && col < int64(x0+cw); col++ {
			r0, r1 := int64(0), h
			if col == firstCol {
				r0 = start % h
			}
			if col == lastCol {
				r1 = (end-1)%h + 1
			}
			r0, r1 = max(r0, int64(y0)), min(r1, int64(y0+ch))
			row := dst[int(col)-x0:]
			for y := r0; y < r1; y++ {
				row[(int(y)-y0)*cw] = 1
			}
		}
	}
}

// segmentation is a parsed COCO "segmentation" value: polygons to be
// rasterised at the image's size, or run-length masks with their own size.
type segmentation struct {
	polygons [][]float64
	rles     []rle
}

// rawRLE is the JSON form of an RLE: counts as a compressed string or as a
// list of numbers, size as [height, width].
type rawRLE struct {
	Counts json.RawMessage `json:"counts"`
	Size   []int           `json:"size"`
}

// parseSegmentation reads a COCO segmentation the way the release's
// seg_to_mask hands it to pycocotools: a list of polygons; a list whose
// first entry has exactly 4 numbers, which frPyObjects takes for boxes
// [x, y, w, h]; a list of uncompressed RLEs; or one RLE whose counts are a
// string (compressed) or a list of numbers (uncompressed). An empty list is
// an empty mask (pycocotools would fail on it).
func parseSegmentation(raw []byte) (segmentation, error) {
	raw = bytes.TrimSpace(raw)
	var seg segmentation
	if len(raw) == 0 || string(raw) == "null" {
		return seg, errors.New("no segmentation")
	}
	if raw[0] == '{' {
		r, err := parseRLE(raw)
		if err != nil {
			return seg, err
		}
		seg.rles = []rle{r}
		return seg, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return seg, fmt.Errorf("segmentation is neither a list of polygons nor an RLE object: %v", err)
	}
	if len(items) == 0 {
		return seg, nil
	}
	if t := bytes.TrimSpace(items[0]); len(t) > 0 && t[0] == '{' {
		for i, it := range items {
			r, err := parseRLE(it)
			if err != nil {
				return seg, fmt.Errorf("RLE %d: %v", i, err)
			}
			if i > 0 && (r.h != seg.rles[0].h || r.w != seg.rles[0].w) {
				return seg, fmt.Errorf("RLE %d is %dx%d but RLE 0 is %dx%d; they cannot be merged", i, r.h, r.w, seg.rles[0].h, seg.rles[0].w)
			}
			seg.rles = append(seg.rles, r)
		}
		return seg, nil
	}
	for i, it := range items {
		var p []float64
		if err := json.Unmarshal(it, &p); err != nil {
			return seg, fmt.Errorf("polygon %d is not a list of numbers: %v", i, err)
		}
		seg.polygons = append(seg.polygons, p)
	}
	switch n := len(seg.polygons[0]); {
	case n == 4:
		// frPyObjects reads a list whose first entry has 4 numbers as boxes
		// [x, y, w, h] and rasterises each as a 4-vertex polygon.
		for i, b := range seg.polygons {
			if len(b) != 4 {
				return seg, fmt.Errorf("segmentation starts with a 4-number box but entry %d has %d numbers", i, len(b))
			}
			x0, y0, x1, y1 := b[0], b[1], b[0]+b[2], b[1]+b[3]
			seg.polygons[i] = []float64{x0, y0, x0, y1, x1, y1, x1, y0}
		}
	case n < 4:
		return seg, fmt.Errorf("polygon 0 has %d numbers; a polygon needs at least 3 points (6 numbers)", n)
	}
	return seg, nil
}

func parseRLE(raw []byte) (rle, error) {
	var rr rawRLE
	if err := json.Unmarshal(raw, &rr); err != nil {
		return rle{}, fmt.Errorf("RLE: %v", err)
	}
	if len(rr.Size) != 2 {
		return rle{}, fmt.Errorf("RLE size %v: want [height, width]", rr.Size)
	}
	h, w := rr.Size[0], rr.Size[1]
	counts := bytes.TrimSpace(rr.Counts)
	if len(counts) == 0 {
		return rle{}, errors.New("RLE has no counts")
	}
	if counts[0] == '"' {
		var s string
		if err := json.Unmarshal(counts, &s); err != nil {
			return rle{}, fmt.Errorf("RLE counts: %v", err)
		}
		return decodeRLEString(s, h, w)
	}
	var list []int64
	if err := json.Unmarshal(counts, &list); err != nil {
		return rle{}, fmt.Errorf("RLE counts are neither a string nor a list of integers: %v", err)
	}
	if err := checkMaskSize(h, w); err != nil {
		return rle{}, err
	}
	c := make([]uint32, len(list))
	for i, v := range list {
		if v < 0 || v > int64(h)*int64(w) {
			return rle{}, fmt.Errorf("RLE count %d (count %d) is outside 0..%d for a %dx%d mask", v, i, h*w, h, w)
		}
		c[i] = uint32(v)
	}
	return newRLE(h, w, c)
}

// crop returns the segmentation's binary mask inside rows [y0, y1) and
// columns [x0, x1), clipped to the mask as numpy slicing clips (negative
// starts are clamped to 0 here, where numpy would count from the end).
// Polygons are rasterised at imgH x imgW; RLEs keep their own size. The
// result is ch x cw, row-major, values 0 or 1; it may be empty.
func (s segmentation) crop(imgH, imgW, x0, y0, x1, y1 int) (mask []uint8, ch, cw int, err error) {
	h, w := imgH, imgW
	if len(s.rles) > 0 {
		h, w = s.rles[0].h, s.rles[0].w
	}
	if err := checkMaskSize(h, w); err != nil {
		return nil, 0, 0, err
	}
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, w), min(y1, h)
	cw, ch = max(x1-x0, 0), max(y1-y0, 0)
	mask = make([]uint8, cw*ch)
	for _, r := range s.rles {
		r.orCrop(mask, x0, y0, cw, ch)
	}
	for i, p := range s.polygons {
		r, err := polygonRLE(p, h, w)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("polygon %d: %v", i, err)
		}
		r.orCrop(mask, x0, y0, cw, ch)
	}
	return mask, ch, cw, nil
}

// EncodeRLE writes column-major run lengths in COCO's compressed string
// form, the inverse of the decoder: from the fourth count on each is
// stored as its difference to the count two before, in 5-bit groups with a
// continuation bit, offset into printable ASCII.
func EncodeRLE[T int64 | uint32 | int](counts []T) string {
	var out []byte
	for i := range counts {
		x := int64(counts[i])
		if i > 2 {
			x -= int64(counts[i-2])
		}
		for more := true; more; {
			c := byte(x & 0x1f)
			x >>= 5
			if c&0x10 != 0 {
				more = x != -1
			} else {
				more = x != 0
			}
			if more {
				c |= 0x20
			}
			out = append(out, c+48)
		}
	}
	return string(out)
}
