package data

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sg2im-go/sg2im/model"
)

// VGOptions gather the release's Visual Genome settings: the
// preprocessing of scripts/preprocess_vg.py (run here directly on the JSON
// files, with no HDF5 step) and the kwargs of VgSceneGraphDataset
// (sg2im/data/vg.py) as scripts/train.py passes them. Start from
// DefaultVGOptions.
type VGOptions struct {
	ImageDir          string // holds VG_100K/ and VG_100K_2/
	ImageDataJSON     string // image_data.json
	ObjectsJSON       string // objects.json
	RelationshipsJSON string // relationships.json
	// SplitsJSON is the release's sg2im/data/vg_splits.json ({"train":
	// [image ids], "val": [...], "test": [...]}). Without it every image of
	// image_data.json, in that file's order, is one split named "train".
	SplitsJSON string
	Split      string // the split to serve
	TrainSplit string // the split the vocabulary is counted on
	// Alias files (object_alias.txt, relationship_alias.txt): each line
	// lists names, the first being the one the others become. Optional.
	ObjectAliases       string
	RelationshipAliases string

	MinImageSize             int // images with a side below it are dropped
	MinObjectInstances       int // object names need this many training objects
	MinObjectSize            int // objects need width and height of at least this (pixels)
	MinObjectsPerImage       int
	MaxObjectsPerImage       int
	MinRelationshipInstances int // predicates need this many training relationships
	MinRelationshipsPerImage int
	MaxRelationshipsPerImage int

	ImageSize            [2]int // (H, W)
	NormalizeImages      bool
	MaxObjects           int // objects drawn per example, __image__ included (see Example)
	MaxSamples           int // 0: all
	IncludeRelationships bool
	UseOrphanedObjects   bool // fill up with objects that are in no relationship
}

// DefaultVGOptions returns the release's defaults (preprocess_vg.py's
// arguments; train.py's image size 64x64 and max_objects_per_image 10)
// with the given paths.
func DefaultVGOptions(imageDir, imageDataJSON, objectsJSON, relationshipsJSON string) VGOptions {
	return VGOptions{
		ImageDir:                 imageDir,
		ImageDataJSON:            imageDataJSON,
		ObjectsJSON:              objectsJSON,
		RelationshipsJSON:        relationshipsJSON,
		Split:                    "train",
		TrainSplit:               "train",
		MinImageSize:             200,
		MinObjectInstances:       2000,
		MinObjectSize:            32,
		MinObjectsPerImage:       3,
		MaxObjectsPerImage:       30,
		MinRelationshipInstances: 500,
		MinRelationshipsPerImage: 1,
		MaxRelationshipsPerImage: 30,
		ImageSize:                [2]int{64, 64},
		NormalizeImages:          true,
		MaxObjects:               10,
		IncludeRelationships:     true,
		UseOrphanedObjects:       true,
	}
}

// VG is the release's Visual Genome scene-graph dataset: human-annotated
// relationships, boxes and no masks.
type VG struct {
	opts  VGOptions
	vocab *model.Vocab
	imgs  []vgImage
}

type vgImage struct {
	id    int
	path  string
	names []int      // vocabulary ids of the objects
	boxes [][4]int32 // x, y, w, h in pixels, truncated to integers as the HDF5 file stores them
	rels  [][3]int   // (subject, predicate id, object), indices into names
}

type vgImageJSON struct {
	ImageID *int   `json:"image_id"`
	ID      *int   `json:"id"` // older releases
	URL     string `json:"url"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
}

type vgObjectsJSON struct {
	ImageID *int           `json:"image_id"`
	ID      *int           `json:"id"`
	Objects []vgObjectJSON `json:"objects"`
}

type vgObjectJSON struct {
	ObjectID *int64   `json:"object_id"`
	ID       *int64   `json:"id"`
	X        float64  `json:"x"`
	Y        float64  `json:"y"`
	W        float64  `json:"w"`
	H        float64  `json:"h"`
	Names    []string `json:"names"`
	Name     string   `json:"name"` // older releases
}

type vgRelationshipsJSON struct {
	ImageID       *int                 `json:"image_id"`
	ID            *int                 `json:"id"`
	Relationships []vgRelationshipJSON `json:"relationships"`
}

type vgRelationshipJSON struct {
	Predicate string    `json:"predicate"`
	Subject   vgRefJSON `json:"subject"`
	Object    vgRefJSON `json:"object"`
}

type vgRefJSON struct {
	ObjectID *int64 `json:"object_id"`
	ID       *int64 `json:"id"`
}

func pickID(a, b *int) (int, bool) {
	if a != nil {
		return *a, true
	}
	if b != nil {
		return *b, true
	}
	return 0, false
}

func pickID64(a, b *int64) (int64, bool) {
	if a != nil {
		return *a, true
	}
	if b != nil {
		return *b, true
	}
	return 0, false
}

// vgRawObject is an object as objects.json gives it, names aliased.
type vgRawObject struct {
	id    int64
	names []string
	box   [4]float64
}

type vgRawRel struct {
	s, o int64
	pred string
	norm bool // pred was lower-cased and aliased (see OpenVG)
}

// vgKept is an object that passed filter_objects.
type vgKept struct {
	name int
	box  [4]int32
}

// OpenVG reads the Visual Genome JSON files and applies preprocess_vg.py's
// rules, then serves opts.Split:
//
//   - images with a side below MinImageSize (200) are dropped from every split;
//   - object names are counted on TrainSplit, each object counting each of
//     its (aliased) names once; names with at least MinObjectInstances
//     (2000) form the object vocabulary after __image__, most frequent first
//     (ties in first-seen order; the release's order for ties depends on
//     Python's string hashing);
//   - an object is kept when one of its names is in the vocabulary (the
//     first such name is its category) and its width and height are at
//     least MinObjectSize (32) pixels;
//   - predicates of training relationships whose two objects were kept are
//     trimmed, lower-cased and aliased and counted; those with at least
//     MinRelationshipInstances (500) form the predicate vocabulary after
//     __in_image__, in first-seen order. Quirk kept from the release: the
//     predicates of other splits are not normalised, so a val relationship
//     "On" matches no predicate;
//   - an image is kept with MinObjectsPerImage..MaxObjectsPerImage (3..30)
//     kept objects and MinRelationshipsPerImage..MaxRelationshipsPerImage
//     (1..30) relationships between them with known predicates.
//
// Not implemented: the attribute vocabulary (unused by training). Images
// missing from objects.json or relationships.json count as having none
// (the release raises KeyError).
func OpenVG(opts VGOptions) (*VG, error) {
	if opts.ImageSize[0] <= 0 || opts.ImageSize[1] <= 0 || opts.ImageSize[0] > maxSide || opts.ImageSize[1] > maxSide {
		return nil, fmt.Errorf("data: VG image size %v: want (H, W) in 1..%d (start from DefaultVGOptions)", opts.ImageSize, maxSide)
	}
	if opts.MaxObjects < 1 {
		return nil, fmt.Errorf("data: VG MaxObjects %d: want at least 1 (it counts __image__)", opts.MaxObjects)
	}
	b := &vgBuild{opts: opts}
	for _, phase := range []func() error{
		b.readImageData, b.readSplits, b.readAliases, b.readObjects, b.filterObjects, b.readRelationships,
	} {
		if err := phase(); err != nil {
			return nil, err
		}
	}
	return b.encodeGraphs()
}

// vgBuild carries OpenVG's phases' results from one to the next.
type vgBuild struct {
	opts VGOptions

	info  map[int]vgImageInfo // readImageData
	order []int               // image ids in image_data.json's order

	splits                      map[string][]int // readSplits, less small images
	allIDs, trainIDs, servedIDs map[int]bool

	objAliases, relAliases map[string]string // readAliases

	imageObjects map[int][]vgRawObject // readObjects: the served split's objects
	objectStream [][]vgRawObject       // objects.json order, for filterObjects
	vocabObjects []string              // __image__, then names by count
	objIdx       map[string]int

	kept map[int64]vgKept // filterObjects

	imageRels map[int][]vgRawRel // readRelationships: the served split's
	vocab     *model.Vocab
}

type vgImageInfo struct {
	w, h int
	url  string
}

func alias(m map[string]string, s string) string {
	if a, ok := m[s]; ok {
		return a
	}
	return s
}

// readImageData reads image_data.json: sizes and URLs.
func (b *vgBuild) readImageData() error {
	b.info = map[int]vgImageInfo{}
	return streamList(b.opts.ImageDataJSON, "images", func(j *jsonFile, i int) error {
		var im vgImageJSON
		if err := j.dec.Decode(&im); err != nil {
			return j.fail(fmt.Sprintf("image %d", i), err)
		}
		id, ok := pickID(im.ImageID, im.ID)
		if !ok {
			return formatErr(b.opts.ImageDataJSON, "image %d has no image_id", i)
		}
		if _, dup := b.info[id]; !dup {
			b.order = append(b.order, id)
		}
		b.info[id] = vgImageInfo{im.Width, im.Height, im.URL}
		return nil
	})
}

// readSplits reads the splits (or makes one of every image) and drops
// small images from each.
func (b *vgBuild) readSplits() error {
	opts := b.opts
	splits := map[string][]int{"train": b.order}
	if opts.SplitsJSON != "" {
		raw, err := os.ReadFile(opts.SplitsJSON)
		if err != nil {
			return err
		}
		splits = nil
		if err := json.Unmarshal(raw, &splits); err != nil {
			return formatErr(opts.SplitsJSON, "want {\"train\": [image ids], ...}: %v", err)
		}
	}
	for _, s := range []string{opts.Split, opts.TrainSplit} {
		if _, ok := splits[s]; !ok {
			return fmt.Errorf("data: VG has no split %q (splits: %v)", s, mapKeys(splits))
		}
	}
	b.allIDs = map[int]bool{}
	for name, ids := range splits {
		kept := ids[:0:0]
		for _, id := range ids {
			im, ok := b.info[id]
			if !ok {
				return formatErr(opts.ImageDataJSON, "split %q lists image %d, which the file does not have", name, id)
			}
			if min(im.w, im.h) >= opts.MinImageSize {
				kept = append(kept, id)
				b.allIDs[id] = true
			}
		}
		splits[name] = kept
	}
	b.splits = splits
	b.trainIDs, b.servedIDs = idSet(splits[opts.TrainSplit]), idSet(splits[opts.Split])
	return nil
}

func idSet(ids []int) map[int]bool {
	m := map[int]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func (b *vgBuild) readAliases() error {
	var err error
	if b.objAliases, err = loadAliases(b.opts.ObjectAliases); err != nil {
		return err
	}
	b.relAliases, err = loadAliases(b.opts.RelationshipAliases)
	return err
}

// readObjects reads objects.json: counts names on the training split,
// keeps the objects of the training and served splits, and makes the
// object vocabulary.
func (b *vgBuild) readObjects() error {
	opts := b.opts
	counts := map[string]int{}
	var seenNames []string
	b.imageObjects = map[int][]vgRawObject{}
	err := streamList(opts.ObjectsJSON, "images", func(j *jsonFile, i int) error {
		var e vgObjectsJSON
		if err := j.dec.Decode(&e); err != nil {
			return j.fail(fmt.Sprintf("image entry %d", i), err)
		}
		id, ok := pickID(e.ImageID, e.ID)
		if !ok {
			return formatErr(opts.ObjectsJSON, "image entry %d has no image_id", i)
		}
		// The release keeps the objects of every split's images; only
		// those of the training and served splits are ever looked at.
		if !b.allIDs[id] || !b.trainIDs[id] && !b.servedIDs[id] {
			return nil
		}
		objs := make([]vgRawObject, len(e.Objects))
		for k, o := range e.Objects {
			oid, ok := pickID64(o.ObjectID, o.ID)
			if !ok {
				return formatErr(opts.ObjectsJSON, "image %d, object %d has no object_id", id, k)
			}
			names := o.Names
			if names == nil && o.Name != "" {
				names = []string{o.Name}
			}
			ro := vgRawObject{id: oid, box: [4]float64{o.X, o.Y, o.W, o.H}}
			for _, n := range names {
				ro.names = append(ro.names, alias(b.objAliases, n))
			}
			objs[k] = ro
			if b.trainIDs[id] {
				seenNames = countOnce(ro.names, counts, seenNames)
			}
		}
		if b.servedIDs[id] {
			b.imageObjects[id] = objs
		}
		b.objectStream = append(b.objectStream, objs)
		return nil
	})
	if err != nil {
		return err
	}
	// Object vocabulary: most frequent first, stable for ties.
	objectNames := slices.Clone(seenNames)
	slices.SortStableFunc(objectNames, func(a, b string) int { return counts[b] - counts[a] })
	b.vocabObjects = []string{model.ImageObject}
	for _, n := range objectNames {
		if counts[n] >= opts.MinObjectInstances {
			b.vocabObjects = append(b.vocabObjects, n)
		}
	}
	b.objIdx = map[string]int{}
	for i, n := range b.vocabObjects {
		b.objIdx[n] = i
	}
	return nil
}

// countOnce counts each of an object's names once, noting new names in
// first-seen order.
func countOnce(names []string, counts map[string]int, seen []string) []string {
	uniq := map[string]bool{}
	for _, n := range names {
		if uniq[n] {
			continue
		}
		uniq[n] = true
		if _, ok := counts[n]; !ok {
			seen = append(seen, n)
		}
		counts[n]++
	}
	return seen
}

// filterObjects is the release's filter_objects: an object stays when one
// of its names is in the vocabulary and it is large enough.
func (b *vgBuild) filterObjects() error {
	b.kept = map[int64]vgKept{}
	for _, objs := range b.objectStream {
		for _, o := range objs {
			name := -1
			for _, n := range o.names {
				if k, ok := b.objIdx[n]; ok {
					name = k
					break
				}
			}
			tooSmall := o.box[2] < float64(b.opts.MinObjectSize) || o.box[3] < float64(b.opts.MinObjectSize)
			if name >= 0 && !tooSmall {
				var box [4]int32
				for k, v := range o.box {
					box[k] = int32(max(math.MinInt32, min(math.MaxInt32, math.Trunc(v))))
				}
				b.kept[o.id] = vgKept{name: name, box: box}
			}
		}
	}
	b.objectStream = nil
	return nil
}

// readRelationships reads relationships.json: normalises and counts
// training predicates, keeps the served split's relationships, and makes
// the vocabulary.
func (b *vgBuild) readRelationships() error {
	opts := b.opts
	predCounts := map[string]int{}
	var seenPreds []string
	b.imageRels = map[int][]vgRawRel{}
	err := streamList(opts.RelationshipsJSON, "images", func(j *jsonFile, i int) error {
		var e vgRelationshipsJSON
		if err := j.dec.Decode(&e); err != nil {
			return j.fail(fmt.Sprintf("image entry %d", i), err)
		}
		id, ok := pickID(e.ImageID, e.ID)
		if !ok {
			return formatErr(opts.RelationshipsJSON, "image entry %d has no image_id", i)
		}
		if !b.trainIDs[id] && !b.servedIDs[id] {
			return nil
		}
		rels := make([]vgRawRel, len(e.Relationships))
		for k, r := range e.Relationships {
			s, ok1 := pickID64(r.Subject.ObjectID, r.Subject.ID)
			o, ok2 := pickID64(r.Object.ObjectID, r.Object.ID)
			if !ok1 || !ok2 {
				return formatErr(opts.RelationshipsJSON, "image %d, relationship %d: subject or object has no object_id", id, k)
			}
			rels[k] = vgRawRel{s: s, o: o, pred: r.Predicate}
			_, sKept := b.kept[s]
			_, oKept := b.kept[o]
			if b.trainIDs[id] && sKept && oKept {
				p := alias(b.relAliases, strings.ToLower(strings.TrimSpace(r.Predicate)))
				rels[k].pred, rels[k].norm = p, true
				if _, seen := predCounts[p]; !seen {
					seenPreds = append(seenPreds, p)
				}
				predCounts[p]++
			}
		}
		if b.servedIDs[id] {
			b.imageRels[id] = rels
		}
		return nil
	})
	if err != nil {
		return err
	}
	vocabPreds := []string{model.InImagePred}
	for _, p := range seenPreds {
		if predCounts[p] >= opts.MinRelationshipInstances {
			vocabPreds = append(vocabPreds, p)
		}
	}
	b.vocab = model.NewVocab(b.vocabObjects[1:], vocabPreds[1:])
	return nil
}

// encodeGraphs is the release's encode_graphs for the served split: the
// images with enough objects and relationships.
func (b *vgBuild) encodeGraphs() (*VG, error) {
	opts, v := b.opts, b.vocab
	d := &VG{opts: opts, vocab: v}
	for _, id := range b.splits[opts.Split] {
		im := vgImage{id: id}
		objIndex := map[int64]int{}
		for _, o := range b.imageObjects[id] {
			k, ok := b.kept[o.id]
			if !ok {
				continue
			}
			objIndex[o.id] = len(im.names)
			im.names = append(im.names, k.name)
			im.boxes = append(im.boxes, k.box)
		}
		if n := len(im.names); n < opts.MinObjectsPerImage || n > opts.MaxObjectsPerImage {
			continue
		}
		for _, r := range b.imageRels[id] {
			p, ok := v.PredNameToIdx[r.pred]
			if !ok {
				continue
			}
			s, ok1 := objIndex[r.s]
			o, ok2 := objIndex[r.o]
			if !ok1 || !ok2 {
				continue
			}
			im.rels = append(im.rels, [3]int{s, p, o})
		}
		if n := len(im.rels); n < opts.MinRelationshipsPerImage || n > opts.MaxRelationshipsPerImage {
			continue
		}
		rel, err := vgImagePath(b.info[id].url)
		if err != nil {
			return nil, formatErr(opts.ImageDataJSON, "image %d: %v", id, err)
		}
		im.path = filepath.Join(opts.ImageDir, rel)
		d.imgs = append(d.imgs, im)
	}
	return d, nil
}

// vgImagePath is the release's image path: the URL's last directory and
// file name ("VG_100K_2/1.jpg").
func vgImagePath(url string) (string, error) {
	dir, file := path.Split(url)
	rel := path.Join(path.Base(dir), file)
	if file == "" || !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("url %q does not end in a directory and an image file name", url)
	}
	return filepath.FromSlash(rel), nil
}

// streamList decodes a top-level JSON list one element at a time.
func streamList(file, what string, elem func(j *jsonFile, i int) error) error {
	if file == "" {
		return fmt.Errorf("data: VG needs the %s file path", what)
	}
	j, err := openJSON(file)
	if err != nil {
		return err
	}
	defer j.Close()
	return j.arrayElems("top level: list of "+what, func(i int) error { return elem(j, i) })
}

// loadAliases reads an alias file: each comma-separated name on a line
// maps to the line's first name. An empty path gives no aliases.
func loadAliases(file string) (map[string]string, error) {
	m := map[string]string{}
	if file == "" {
		return m, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		for _, p := range parts {
			m[p] = parts[0]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, formatErr(file, "%v", err)
	}
	return m, nil
}

func mapKeys(m map[string][]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Len is the number of images, at most MaxSamples when that is set.
func (d *VG) Len() int {
	if d.opts.MaxSamples > 0 {
		return min(len(d.imgs), d.opts.MaxSamples)
	}
	return len(d.imgs)
}

// Vocab is the vocabulary built from the training split.
func (d *VG) Vocab() *model.Vocab { return d.vocab }

// ImageID is the Visual Genome id of image i.
func (d *VG) ImageID(i int) int { return d.imgs[i].id }

// Example loads image i as the release's VgSceneGraphDataset does: the
// objects in some relationship, in index order, are used; if there are more
// than MaxObjects-1 of them, MaxObjects are sampled at random (quirk kept:
// the release samples MaxObjects, not MaxObjects-1, so an example may have
// MaxObjects+1 objects with __image__); if fewer than MaxObjects-1 and
// UseOrphanedObjects, objects in no relationship are sampled to fill up to
// MaxObjects-1. Boxes are divided by the image file's own size (not
// clipped). Triples are the image's relationships among the chosen objects,
// then the __in_image__ ones. There are no masks.
func (d *VG) Example(i int, rng *rand.Rand) (*Example, error) {
	if i < 0 || i >= d.Len() {
		return nil, fmt.Errorf("data: VG example %d out of range [0, %d)", i, d.Len())
	}
	rec := &d.imgs[i]
	img, fw, fh, err := loadImage(rec.path, d.opts.ImageSize[0], d.opts.ImageSize[1], d.opts.NormalizeImages)
	if err != nil {
		return nil, fmt.Errorf("VG image %d: %w", rec.id, err)
	}
	inRel := make([]bool, len(rec.names))
	for _, r := range rec.rels {
		inRel[r[0]], inRel[r[2]] = true, true
	}
	var withRels, without []int
	for k, in := range inRel {
		if in {
			withRels = append(withRels, k)
		} else {
			without = append(without, k)
		}
	}
	chosen := withRels
	if len(chosen) > d.opts.MaxObjects-1 {
		chosen = sample(rng, chosen, d.opts.MaxObjects)
	}
	if len(chosen) < d.opts.MaxObjects-1 && d.opts.UseOrphanedObjects {
		add := min(d.opts.MaxObjects-1-len(chosen), len(without))
		chosen = append(slices.Clip(chosen), sample(rng, without, add)...)
	}
	ex := &Example{Image: img}
	pos := map[int]int{}
	for k, oi := range chosen {
		pos[oi] = k
		b := rec.boxes[oi]
		x, y, w, h := float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3])
		ex.Objs = append(ex.Objs, rec.names[oi])
		ex.Boxes = append(ex.Boxes, [4]float32{
			float32(x / float64(fw)), float32(y / float64(fh)),
			float32((x + w) / float64(fw)), float32((y + h) / float64(fh)),
		})
	}
	n := len(chosen)
	ex.Objs = append(ex.Objs, d.vocab.ObjectNameToIdx[model.ImageObject])
	ex.Boxes = append(ex.Boxes, [4]float32{0, 0, 1, 1})
	if d.opts.IncludeRelationships {
		for _, r := range rec.rels {
			s, ok1 := pos[r[0]]
			o, ok2 := pos[r[2]]
			if ok1 && ok2 {
				ex.Triples = append(ex.Triples, [3]int{s, r[1], o})
			}
		}
	}
	inImage := d.vocab.PredNameToIdx[model.InImagePred]
	for k := 0; k < n; k++ {
		ex.Triples = append(ex.Triples, [3]int{k, inImage, n})
	}
	return ex, nil
}

// sample is Python's random.sample: k distinct elements of xs in random
// order (a partial Fisher-Yates shuffle of a copy).
func sample(rng *rand.Rand, xs []int, k int) []int {
	p := slices.Clone(xs)
	for i := 0; i < k; i++ {
		j := i + rng.IntN(len(p)-i)
		p[i], p[j] = p[j], p[i]
	}
	return p[:k]
}
