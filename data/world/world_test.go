package world

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sg2im-go/sg2im/data"
)

// testScenes is how many scenes the statistical tests look at (about 1 ms
// of CPU each at 64x64).
const testScenes = 300

func newWorld(t testing.TB, edit func(*Options)) *World {
	t.Helper()
	opts := DefaultOptions()
	opts.Seed = 7
	if edit != nil {
		edit(&opts)
	}
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func scene(t testing.TB, w *World, i int) *Scene {
	t.Helper()
	sc, err := w.Scene(i)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestVocab(t *testing.T) {
	v := NewVocab()
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []string{"__in_image__", "left of", "right of", "above", "below", "inside", "surrounding", "on", "in", "behind", "in front of"}
	if !slices.Equal(v.PredIdxToName, want) {
		t.Errorf("predicates %q, want %q", v.PredIdxToName, want)
	}
	for name, id := range map[string]int{"on": predOn, "in": predIn, "behind": predBehind, "in front of": predInFrontOf, "surrounding": predSurrounding} {
		if v.PredNameToIdx[name] != id {
			t.Errorf("predicate %q has id %d, constant %d", name, v.PredNameToIdx[name], id)
		}
	}
	nStuff := 0
	for id, name := range v.ObjectIdxToName {
		if id != 0 && v.ObjectNameToIdx[name] != id || categoryNames[id] != name {
			t.Errorf("object %d is %q", id, name)
		}
		if Stuff(name) {
			nStuff++
		}
	}
	if len(v.ObjectIdxToName) < 15 || nStuff < 4 || len(v.ObjectIdxToName)-1-nStuff < 10 {
		t.Errorf("%d objects, %d stuff: want at least 14 categories, 4 stuff", len(v.ObjectIdxToName)-1, nStuff)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := newWorld(t, nil), newWorld(t, nil)
	other := newWorld(t, func(o *Options) { o.Seed = 8 })
	held := newWorld(t, func(o *Options) { o.Heldout = true })
	for i := 0; i < 20; i++ {
		s1, s2 := scene(t, a, i), scene(t, b, i)
		if !bytes.Equal(s1.Pix, s2.Pix) || !bytes.Equal(s1.HiIDs, s2.HiIDs) || !slices.Equal(s1.Objects, s2.Objects) || !slices.Equal(s1.Facts, s2.Facts) {
			t.Fatalf("scene %d differs between two renderings", i)
		}
		if bytes.Equal(s1.Pix, scene(t, other, i).Pix) {
			t.Errorf("scene %d is the same for seeds 7 and 8", i)
		}
		if bytes.Equal(s1.Pix, scene(t, held, i).Pix) {
			t.Errorf("scene %d is the same in the training and held-out ranges", i)
		}
		// The rng drives only the triples.
		e1, _ := a.Example(i, rand.New(rand.NewPCG(1, 1)))
		e2, _ := a.Example(i, rand.New(rand.NewPCG(1, 1)))
		e3, _ := a.Example(i, rand.New(rand.NewPCG(2, 2)))
		if !slices.Equal(e1.Image.Data, e3.Image.Data) || !slices.Equal(e1.Boxes, e3.Boxes) || !slices.Equal(e1.Objs, e3.Objs) {
			t.Errorf("scene %d: the example's image or objects depend on the rng", i)
		}
		if !slices.Equal(e1.Triples, e2.Triples) {
			t.Errorf("scene %d: triples differ for the same rng", i)
		}
	}
	if _, err := a.Scene(a.Len()); err == nil {
		t.Error("scene Len() rendered; want an out-of-range error")
	}
}

// TestMasksMatchPixels checks the chain from drawing to masks: at the
// drawing resolution the id buffer is exactly the set of pixels painted in
// the object's colour (each object in turn painted in a colour no look
// uses); each image pixel belongs to the object covering most of its
// block; areas and boxes are those of the pixels; the example's masks are
// the crops resized by the COCO rule.
func TestMasksMatchPixels(t *testing.T) {
	w := newWorld(t, nil)
	c := newCanvas(Supersample * w.opts.ImageSize)
	for i := 0; i < 12; i++ {
		sc := scene(t, w, i)
		for k := range sc.Objects {
			c.probe = uint8(k + 1)
			probed := w.render(i, c)
			c.probe = 0
			if !slices.Equal(probed.HiIDs, sc.HiIDs) {
				t.Fatalf("scene %d: probing object %d changed the id buffer", i, k)
			}
			for p, id := range c.ids {
				isProbe := c.pix[3*p] == 255 && c.pix[3*p+1] == 0 && c.pix[3*p+2] == 255
				if (id == uint8(k+1)) != isProbe {
					t.Fatalf("scene %d, %s: drawing pixel %d has id %d but probe colour %v", i, sc.Objects[k].Name, p, id, isProbe)
				}
			}
		}
		checkDownsampledIDs(t, sc)
		ex := w.ExampleOf(sc, rand.New(rand.NewPCG(0, 0)))
		m := w.opts.MaskSize
		for k, o := range sc.Objects {
			area, box := 0, [4]int{sc.Size, sc.Size, 0, 0}
			for p, id := range sc.IDs {
				if id == uint8(k+1) {
					x, y := p%sc.Size, p/sc.Size
					area++
					box = [4]int{min(box[0], x), min(box[1], y), max(box[2], x+1), max(box[3], y+1)}
				}
			}
			if area != o.Area || box != o.PixBox || area == 0 {
				t.Errorf("scene %d, %s: area %d box %v, pixels say %d %v", i, o.Name, o.Area, o.PixBox, area, box)
			}
			for j := 0; j < 4; j++ {
				if ex.Boxes[k][j] != float32(box[j])/float32(sc.Size) {
					t.Errorf("scene %d, %s: example box %v, pixel box %v", i, o.Name, ex.Boxes[k], box)
				}
			}
			// The mask: the object's pixels in its box, resized by the COCO
			// rule; it must not be empty.
			cw, ch := box[2]-box[0], box[3]-box[1]
			crop := make([]uint8, cw*ch)
			for y := 0; y < ch; y++ {
				for x := 0; x < cw; x++ {
					if sc.IDs[(box[1]+y)*sc.Size+box[0]+x] == uint8(k+1) {
						crop[y*cw+x] = 1
					}
				}
			}
			want := make([]float32, m*m)
			data.ResizeMask(want, crop, ch, cw, m)
			if !slices.Equal(ex.Masks[k], want) {
				t.Errorf("scene %d, %s: mask differs from its resized crop", i, o.Name)
			}
		}
		last := len(ex.Objs) - 1
		if ex.Objs[last] != 0 || ex.Boxes[last] != [4]float32{0, 0, 1, 1} || slices.Contains(ex.Masks[last], 0) {
			t.Errorf("scene %d: __image__ is not last with a full box and mask", i)
		}
	}
}

// checkDownsampledIDs recomputes each image pixel's object from the
// drawing-resolution ids: the most frequent in its block, ties to the
// higher rank.
func checkDownsampledIDs(t *testing.T, sc *Scene) {
	t.Helper()
	f, n := Supersample, Supersample*sc.Size
	for y := 0; y < sc.Size; y++ {
		for x := 0; x < sc.Size; x++ {
			count := map[uint8]int{}
			for dy := 0; dy < f; dy++ {
				for dx := 0; dx < f; dx++ {
					count[sc.HiIDs[(y*f+dy)*n+x*f+dx]]++
				}
			}
			got := sc.IDs[y*sc.Size+x]
			for id, k := range count {
				if id == 0 {
					t.Fatalf("pixel (%d, %d) has undrawn subpixels", x, y)
				}
				rg, ri := sc.Objects[got-1].Rank, sc.Objects[id-1].Rank
				if k > count[got] || (k == count[got] && ri > rg) {
					t.Fatalf("pixel (%d, %d) is object %d (%d subpixels) but object %d has %d", x, y, got, count[got], id, k)
				}
			}
		}
	}
}

// spatialRule is spec section 5 written again from the text, to check the
// emitted triples independently of the data package.
func spatialRule(sBox, oBox [4]float32, sMask, oMask []float32, m int) string {
	centre := func(b [4]float32, mask []float32) (float64, float64) {
		var sx, sy float64
		n := 0
		for i := 0; i < m; i++ {
			for j := 0; j < m; j++ {
				if mask[i*m+j] == 1 {
					// torch.linspace(x0, x1, M) in float32.
					sx += float64(b[0] + float32(j)*((b[2]-b[0])/float32(m-1)))
					sy += float64(b[1] + float32(i)*((b[3]-b[1])/float32(m-1)))
					n++
				}
			}
		}
		if n == 0 {
			return float64(0.5 * (b[0] + b[2])), float64(0.5 * (b[1] + b[3]))
		}
		return float64(float32(sx / float64(n))), float64(float32(sy / float64(n)))
	}
	sx, sy := centre(sBox, sMask)
	ox, oy := centre(oBox, oMask)
	theta := math.Atan2(float64(float32(sy)-float32(oy)), float64(float32(sx)-float32(ox)))
	switch {
	case sBox[0] < oBox[0] && sBox[2] > oBox[2] && sBox[1] < oBox[1] && sBox[3] > oBox[3]:
		return "surrounding"
	case sBox[0] > oBox[0] && sBox[2] < oBox[2] && sBox[1] > oBox[1] && sBox[3] < oBox[3]:
		return "inside"
	case theta >= 3*math.Pi/4 || theta <= -3*math.Pi/4:
		return "left of"
	case theta < -math.Pi/4:
		return "above"
	case theta < math.Pi/4:
		return "right of"
	}
	return "below"
}

func TestTriplesTrue(t *testing.T) {
	w := newWorld(t, nil)
	v := w.Vocab()
	rng := rand.New(rand.NewPCG(3, 3))
	var geo, sem int
	perPred := map[string]int{}
	for i := 0; i < testScenes; i++ {
		sc := scene(t, w, i)
		checkFacts(t, i, sc)
		ex := w.ExampleOf(sc, rng)
		n := len(sc.Objects)
		inImage := 0
		for k, tr := range ex.Triples {
			s, p, o := tr[0], tr[1], tr[2]
			name := v.PredIdxToName[p]
			perPred[name]++
			switch {
			case p == predInImage:
				if o != n || s != inImage || k < len(ex.Triples)-n {
					t.Fatalf("scene %d: triple %d %v: __in_image__ triples must come last, one per object in order", i, k, tr)
				}
				inImage++
			case p <= predSurrounding:
				geo++
				if want := spatialRule(ex.Boxes[s], ex.Boxes[o], ex.Masks[s], ex.Masks[o], w.opts.MaskSize); name != want {
					t.Errorf("scene %d: %s %s %s, but the rule gives %s", i, sc.Objects[s].Name, name, sc.Objects[o].Name, want)
				}
			default:
				sem++
				if !slices.Contains(sc.Facts, Fact{s, p, o}) {
					t.Errorf("scene %d: %s %s %s is not a fact of the scene", i, sc.Objects[s].Name, name, sc.Objects[o].Name)
				}
			}
		}
		if inImage != n {
			t.Errorf("scene %d: %d __in_image__ triples for %d objects", i, inImage, n)
		}
	}
	t.Logf("%d geometric and %d semantic triples in %d scenes: %v", geo, sem, testScenes, perPred)
	for _, p := range v.PredIdxToName {
		if perPred[p] == 0 {
			t.Errorf("predicate %q never drawn in %d scenes", p, testScenes)
		}
	}
}

// checkFacts verifies each semantic fact against the scene's construction.
func checkFacts(t *testing.T, i int, sc *Scene) {
	t.Helper()
	l := sc.layout
	n := float64(Supersample * sc.Size)
	for _, f := range sc.Facts {
		s, o := &sc.Objects[f.S], &sc.Objects[f.O]
		bad := func(why string) {
			t.Errorf("scene %d: %s %s %s: %s", i, s.Name, NewVocab().PredIdxToName[f.Pred], o.Name, why)
		}
		switch f.Pred {
		case predOn:
			// The stuff under the whole base, before anything was drawn,
			// is the support; the category may stand on it.
			if s.Stuff || !o.Stuff || !slices.Contains(rules[s.Category].support, o.Category) {
				bad("not a ground thing on a stuff it may stand on")
			}
			for k := 0; k <= 4; k++ {
				x := s.Full[0] + (s.Full[2]-s.Full[0])*(0.15+0.7*float64(k)/4)
				if got := l.stuffAt(x, s.Foot-0.5/n); got != o.Category {
					bad("its base at x = " + categoryNames[got])
				}
			}
		case predIn:
			// Every pixel of a sky thing lies where the layout has sky.
			if s.Category != sun && s.Category != cloud && s.Category != bird || o.Category != sky {
				bad("not a sky thing in the sky")
			}
			for p, id := range sc.HiIDs {
				if int(id) == f.S+1 && l.stuffAt((float64(p%int(n))+0.5)/n, (float64(p/int(n))+0.5)/n) != sky {
					bad("a pixel is outside the sky")
					break
				}
			}
		case predBehind, predInFrontOf:
			farI, nearI := f.S, f.O
			if f.Pred == predInFrontOf {
				farI, nearI = f.O, f.S
			}
			far, near := &sc.Objects[farI], &sc.Objects[nearI]
			if far.Stuff || near.Stuff || near.Rank <= far.Rank {
				bad("not two things, the nearer drawn later")
			}
			// Either the nearer one covers part of the farther (it shows
			// inside the farther one's drawn box, which is not all
			// visible), or the ground rule holds.
			covers := false
			for p, id := range sc.HiIDs {
				x, y := (float64(p%int(n))+0.5)/n, (float64(p/int(n))+0.5)/n
				if int(id) == nearI+1 && x >= far.Full[0] && x < far.Full[2] && y >= far.Full[1] && y < far.Full[3] {
					covers = far.Visible < 1
					break
				}
			}
			ov := min(far.Full[2], near.Full[2]) - max(far.Full[0], near.Full[0])
			narrow := min(far.Full[2]-far.Full[0], near.Full[2]-near.Full[0])
			inLine := far.Support >= 0 && near.Support >= 0 && sc.Objects[far.Support].Category != sky && sc.Objects[near.Support].Category != sky &&
				ov >= behindOverlap*narrow && near.Foot-far.Foot >= behindDepth
			if !covers && !inLine {
				bad("neither covered nor in line at clearly different depths")
			}
			mirror := Fact{f.O, predBehind + predInFrontOf - f.Pred, f.S}
			if !slices.Contains(sc.Facts, mirror) {
				bad("its converse is missing")
			}
		default:
			bad("unknown semantic predicate")
		}
	}
	for k, o := range sc.Objects {
		if !o.Stuff && !slices.ContainsFunc(sc.Facts, func(f Fact) bool { return f.S == k && (f.Pred == predOn || f.Pred == predIn) }) {
			t.Errorf("scene %d: %s has no on/in fact", i, o.Name)
		}
	}
}

func TestCategoriesAndCommonSense(t *testing.T) {
	w := newWorld(t, nil)
	count := map[string]int{}
	objects := 0
	for i := 0; i < testScenes; i++ {
		sc := scene(t, w, i)
		l := sc.layout
		objects += len(sc.Objects)
		if len(sc.Objects) > w.opts.MaxObjects || len(sc.Objects) < 3 {
			t.Errorf("scene %d has %d objects; want 3..%d", i, len(sc.Objects), w.opts.MaxObjects)
		}
		lastFoot, lastRank := 0.0, 0
		for _, o := range sc.Objects {
			count[o.Name]++
			if o.Stuff {
				continue
			}
			if o.Rank != lastRank+1 {
				t.Errorf("scene %d: things are not in drawing order", i)
			}
			lastRank = o.Rank
			if o.Visible < minVisible {
				t.Errorf("scene %d: %s is %.0f%% visible", i, o.Name, 100*o.Visible)
			}
			support := sc.Objects[o.Support]
			switch o.Category {
			case sun, cloud, bird:
				// In the sky, above the horizon and the mountains.
				if support.Category != sky || o.Full[3] > sc.Horizon {
					t.Errorf("scene %d: %s reaches y = %.2f, below the horizon %.2f", i, o.Name, o.Full[3], sc.Horizon)
				}
				if r, _ := l.ridgeAt((o.Full[0] + o.Full[2]) / 2); o.Full[3] > r {
					t.Errorf("scene %d: %s overlaps the mountain", i, o.Name)
				}
			default:
				// Ground things are drawn from the horizon down (nearer
				// over farther), stand below the horizon on their stuff,
				// and are smaller near the horizon.
				if o.Foot < lastFoot {
					t.Errorf("scene %d: %s (base %.2f) drawn after a nearer thing (base %.2f)", i, o.Name, o.Foot, lastFoot)
				}
				lastFoot = o.Foot
				if o.Foot <= sc.Horizon {
					t.Errorf("scene %d: %s stands above the horizon", i, o.Name)
				}
				want := map[int][]int{boat: {sea}, sheep: {grass}, flower: {grass}, car: {road}, house: {grass, snow}, tree: {grass, snow}, person: {grass, snow, sand}}[o.Category]
				if !slices.Contains(want, support.Category) {
					t.Errorf("scene %d: %s on %s", i, o.Name, support.Name)
				}
				if b, s := o.PixBox, support.PixBox; b[0] >= s[2] || s[0] >= b[2] || b[1] >= s[3] || s[1] >= b[3] {
					t.Errorf("scene %d: %s does not overlap the %s it stands on", i, o.Name, support.Name)
				}
				s := (o.Foot - sc.Horizon) / (1 - sc.Horizon)
				ru := rules[o.Category]
				hmax := ru.h[1]
				if !heightFirst(o.Category) {
					hmax = ru.w[1] * ru.h[1]
				}
				if h := o.Full[3] - o.Full[1]; h > hmax*(0.3+0.7*s)+0.01 {
					t.Errorf("scene %d: %s at depth %.2f is %.2f tall, more than its scale allows (%.2f)", i, o.Name, s, h, hmax*(0.3+0.7*s))
				}
			}
		}
	}
	t.Logf("%.1f objects a scene; counts over %d scenes: %v", float64(objects)/testScenes, testScenes, count)
	for _, name := range categoryNames[1:] {
		if count[name] < 10 {
			t.Errorf("%s appears %d times in %d scenes; want at least 10", name, count[name], testScenes)
		}
	}
}

func TestImageSizes(t *testing.T) {
	for _, size := range []int{32, 128} {
		w := newWorld(t, func(o *Options) { o.ImageSize = size; o.MaskSize = 8 })
		for i := 0; i < 5; i++ {
			ex, err := w.Example(i, rand.New(rand.NewPCG(0, 0)))
			if err != nil {
				t.Fatal(err)
			}
			if ex.Image.Dim(1) != size || ex.Image.Dim(2) != size || len(ex.Masks[0]) != 64 {
				t.Fatalf("size %d: image %v, mask %d values", size, ex.Image.Shape, len(ex.Masks[0]))
			}
		}
	}
	for _, bad := range []func(*Options){
		func(o *Options) { o.ImageSize = 8 },
		func(o *Options) { o.N = 0 },
		func(o *Options) { o.MaxObjects = 2 },
		func(o *Options) { o.MaskSize = -1 },
	} {
		opts := DefaultOptions()
		bad(&opts)
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) succeeded", opts)
		}
	}
}

func TestCollate(t *testing.T) {
	w := newWorld(t, nil)
	l := data.NewLoader(w, 4, 1, 2)
	defer l.Close()
	b, err := l.Next()
	if err != nil {
		t.Fatal(err)
	}
	if b.NumImages != 4 || b.Masks == nil || b.Images.Dim(2) != 64 {
		t.Errorf("batch: %d images, masks %v, image shape %v", b.NumImages, b.Masks != nil, b.Images.Shape)
	}
}
