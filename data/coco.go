package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/sg2im-go/sg2im/model"
)

// COCOOptions mirror the keyword arguments of the release's
// CocoSceneGraphDataset (sg2im/data/coco.py). Start from
// DefaultCOCOOptions: the zero value of a bool or size is not the
// release's default.
type COCOOptions struct {
	ImageDir      string // directory holding the images' file_name
	InstancesJSON string // COCO instances file (instances_train2017.json)
	StuffJSON     string // optional COCO-Stuff file (stuff_train2017.json)
	// StuffOnly keeps only images that appear in StuffJSON (ignored, as the
	// release ignores it with a warning, when there is no StuffJSON).
	StuffOnly bool
	ImageSize [2]int // (H, W) of the images handed out
	// MaskSize M of the object masks; 0 gives no masks (relationships
	// then use box centres).
	MaskSize        int
	NormalizeImages bool // ImageNet normalisation
	MaxSamples      int  // use only the first MaxSamples images; 0: all
	// IncludeRelationships adds the random spatial triples; without it
	// only __in_image__ triples are made.
	IncludeRelationships bool
	// MinObjectSize drops objects whose bbox covers at most this fraction
	// of the image (by the width and height the JSON gives).
	MinObjectSize      float64
	MinObjectsPerImage int // images with fewer kept objects are dropped
	MaxObjectsPerImage int // images with more kept objects are dropped
	IncludeOther       bool
	// Whitelists of category names; nil allows every category of that
	// file, an empty non-nil list none (as Python's None and []).
	InstanceWhitelist []string
	StuffWhitelist    []string
}

// DefaultCOCOOptions returns the release's defaults (those of
// CocoSceneGraphDataset and scripts/train.py) with the three paths.
func DefaultCOCOOptions(imageDir, instancesJSON, stuffJSON string) COCOOptions {
	return COCOOptions{
		ImageDir:             imageDir,
		InstancesJSON:        instancesJSON,
		StuffJSON:            stuffJSON,
		StuffOnly:            true,
		ImageSize:            [2]int{64, 64},
		MaskSize:             16,
		NormalizeImages:      true,
		IncludeRelationships: true,
		MinObjectSize:        0.02,
		MinObjectsPerImage:   3,
		MaxObjectsPerImage:   8,
	}
}

// maxCategoryID bounds COCO category ids (COCO-Stuff's go to 183): the
// vocabulary has one entry per id up to the largest.
const maxCategoryID = 1 << 16

// maxAnnotationBytes bounds one annotation's JSON text (a stuff RLE string
// is a few kilobytes).
const maxAnnotationBytes = 1 << 26

// COCO is the release's COCO-Stuff scene-graph dataset. Object ids are COCO
// category ids; predicates are spatial relations drawn afresh for every
// example. Annotation files stay on disk: each kept annotation is
// remembered by its byte range and re-read when its image is drawn, so the
// files must not change while the dataset is in use.
type COCO struct {
	opts  COCOOptions
	files [2]string // instances, stuff
	vocab *model.Vocab
	imgs  []cocoImage
}

type cocoImage struct {
	id   int
	path string
	objs []cocoObject
}

type cocoObject struct {
	id       int64 // annotation id, for messages
	file     int   // index into COCO.files
	off      int64 // byte range of the annotation in its file
	n        int
	category int
	bbox     [4]float64 // x, y, w, h in pixels
}

type cocoImageJSON struct {
	ID       int    `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

type cocoCategoryJSON struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type cocoAnnotationHeader struct {
	ID         int64     `json:"id"`
	ImageID    int       `json:"image_id"`
	CategoryID int       `json:"category_id"`
	BBox       []float64 `json:"bbox"`
}

type cocoAnnotation struct {
	cocoAnnotationHeader
	Segmentation json.RawMessage `json:"segmentation"`
}

// cocoFile is what one annotation file holds, annotations by byte range.
type cocoFile struct {
	images      []cocoImageJSON
	categories  []cocoCategoryJSON
	annotations []cocoObjectAt
}

type cocoObjectAt struct {
	cocoObject
	imageID int
}

func readCOCOFile(path string, index int) (*cocoFile, error) {
	j, err := openJSON(path)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	cf := &cocoFile{}
	seen := map[string]bool{}
	err = j.objectFields(func(key string) error {
		seen[key] = true
		switch key {
		case "images":
			if err := j.dec.Decode(&cf.images); err != nil {
				return j.fail(`"images"`, err)
			}
		case "categories":
			if err := j.dec.Decode(&cf.categories); err != nil {
				return j.fail(`"categories"`, err)
			}
		case "annotations":
			return j.arrayElems(`"annotations"`, func(i int) error {
				start := j.dec.InputOffset()
				var a cocoAnnotationHeader
				if err := j.dec.Decode(&a); err != nil {
					return j.fail(fmt.Sprintf("annotation %d", i), err)
				}
				end := j.dec.InputOffset()
				if len(a.BBox) != 4 {
					return formatErr(path, "annotation %d (id %d): bbox %v: want [x, y, width, height]", i, a.ID, a.BBox)
				}
				if end-start > maxAnnotationBytes {
					return formatErr(path, "annotation %d (id %d) has %d bytes of JSON, more than %d", i, a.ID, end-start, maxAnnotationBytes)
				}
				cf.annotations = append(cf.annotations, cocoObjectAt{
					cocoObject: cocoObject{id: a.ID, file: index, off: start, n: int(end - start), category: a.CategoryID,
						bbox: [4]float64{a.BBox[0], a.BBox[1], a.BBox[2], a.BBox[3]}},
					imageID: a.ImageID,
				})
				return nil
			})
		default:
			return j.skipValue(fmt.Sprintf("%q", key))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	required := []string{"categories", "annotations"}
	if index == 0 {
		required = append(required, "images")
	}
	for _, k := range required {
		if !seen[k] {
			return nil, formatErr(path, "no %q list; is this a COCO annotation file?", k)
		}
	}
	return cf, nil
}

// OpenCOCO reads the annotation files and applies the release's filters:
// an object is kept when its bbox covers more than MinObjectSize of the
// image, its category is whitelisted and not "other" (unless
// IncludeOther); with StuffOnly and a stuff file, only images listed in
// the stuff annotations remain; then images keep MinObjectsPerImage to
// MaxObjectsPerImage objects. The vocabulary is the release's: object ids
// are category ids, __image__ is 0, object_idx_to_name has "NONE" at ids no
// category uses, and the predicates are __in_image__, left of, right of,
// above, below, inside, surrounding.
func OpenCOCO(opts COCOOptions) (*COCO, error) {
	if opts.ImageSize[0] <= 0 || opts.ImageSize[1] <= 0 || opts.ImageSize[0] > maxSide || opts.ImageSize[1] > maxSide {
		return nil, fmt.Errorf("data: COCO image size %v: want (H, W) in 1..%d (start from DefaultCOCOOptions)", opts.ImageSize, maxSide)
	}
	if opts.MaskSize < 0 || opts.MaskSize > 1024 {
		return nil, fmt.Errorf("data: COCO mask size %d: want 0 (no masks) to 1024", opts.MaskSize)
	}
	if opts.InstancesJSON == "" {
		return nil, errors.New("data: COCO needs an instances JSON file")
	}
	b := &cocoBuild{opts: opts}
	var err error
	if b.inst, err = readCOCOFile(opts.InstancesJSON, 0); err != nil {
		return nil, err
	}
	if opts.StuffJSON != "" {
		if b.stuff, err = readCOCOFile(opts.StuffJSON, 1); err != nil {
			return nil, err
		}
	}
	c := &COCO{opts: opts, files: [2]string{opts.InstancesJSON, opts.StuffJSON}}
	if err := b.indexImages(); err != nil {
		return nil, err
	}
	if c.vocab, err = b.categories(); err != nil {
		return nil, err
	}
	if err := b.filterObjects(); err != nil {
		return nil, err
	}
	c.imgs = b.selectImages()
	return c, nil
}

// cocoBuild carries OpenCOCO's phases' results from one to the next.
type cocoBuild struct {
	opts        COCOOptions
	inst, stuff *cocoFile // stuff is nil without a stuff file

	info  map[int]cocoImageInfo // indexImages
	order []int                 // image ids in the instances file's order

	idToName  map[int]string // categories
	whitelist map[string]bool

	objs map[int][]cocoObject // filterObjects: the kept objects by image id
}

type cocoImageInfo struct {
	w, h int
	path string
}

// indexImages checks and indexes the images, in the order of the
// instances file.
func (b *cocoBuild) indexImages() error {
	b.info = map[int]cocoImageInfo{}
	for i, im := range b.inst.images {
		if im.Width <= 0 || im.Height <= 0 {
			return formatErr(b.opts.InstancesJSON, "image %d (id %d) is %dx%d; width and height must be positive", i, im.ID, im.Width, im.Height)
		}
		if !filepath.IsLocal(im.FileName) {
			return formatErr(b.opts.InstancesJSON, "image %d (id %d) has file_name %q, which is not a plain path inside the image directory", i, im.ID, im.FileName)
		}
		if _, dup := b.info[im.ID]; !dup {
			b.order = append(b.order, im.ID)
		}
		b.info[im.ID] = cocoImageInfo{im.Width, im.Height, filepath.Join(b.opts.ImageDir, im.FileName)}
	}
	return nil
}

// categories reads both files' categories into the vocabulary and the
// whitelist.
func (b *cocoBuild) categories() (*model.Vocab, error) {
	opts := b.opts
	nameToIdx := map[string]int{}
	b.idToName = map[int]string{}
	add := func(file string, cats []cocoCategoryJSON) ([]string, error) {
		var names []string
		for _, cat := range cats {
			if cat.ID == 0 {
				return nil, formatErr(file, "category %q has id 0, which the release keeps for __image__", cat.Name)
			}
			if cat.ID < 0 || cat.ID > maxCategoryID {
				return nil, formatErr(file, "category %q has id %d; want 1..%d", cat.Name, cat.ID, maxCategoryID)
			}
			names = append(names, cat.Name)
			b.idToName[cat.ID] = cat.Name
			nameToIdx[cat.Name] = cat.ID
		}
		return names, nil
	}
	instNames, err := add(opts.InstancesJSON, b.inst.categories)
	if err != nil {
		return nil, err
	}
	var stuffNames []string
	if b.stuff != nil {
		if stuffNames, err = add(opts.StuffJSON, b.stuff.categories); err != nil {
			return nil, err
		}
	}
	b.whitelist = map[string]bool{}
	for _, list := range [][]string{pick(opts.InstanceWhitelist, instNames), pick(opts.StuffWhitelist, stuffNames)} {
		for _, n := range list {
			b.whitelist[n] = true
		}
	}
	v, err := cocoVocab(nameToIdx)
	if err != nil {
		return nil, formatErr(opts.InstancesJSON, "%v", err)
	}
	return v, nil
}

// filterObjects keeps the objects that pass the release's filters:
// instances first, then stuff, each in file order.
func (b *cocoBuild) filterObjects() error {
	b.objs = map[int][]cocoObject{}
	add := func(file string, anns []cocoObjectAt) error {
		for i, a := range anns {
			im, ok := b.info[a.imageID]
			if !ok {
				return formatErr(file, "annotation %d (id %d) is for image %d, which the instances file does not list", i, a.id, a.imageID)
			}
			name, ok := b.idToName[a.category]
			if !ok {
				return formatErr(file, "annotation %d (id %d) has category %d, which no categories list defines", i, a.id, a.category)
			}
			area := (a.bbox[2] * a.bbox[3]) / float64(im.w*im.h)
			if area > b.opts.MinObjectSize && b.whitelist[name] && (name != "other" || b.opts.IncludeOther) {
				b.objs[a.imageID] = append(b.objs[a.imageID], a.cocoObject)
			}
		}
		return nil
	}
	if err := add(b.opts.InstancesJSON, b.inst.annotations); err != nil {
		return err
	}
	if b.stuff != nil {
		return add(b.opts.StuffJSON, b.stuff.annotations)
	}
	return nil
}

// selectImages keeps the images with stuff (with StuffOnly) and with
// MinObjectsPerImage to MaxObjectsPerImage objects.
func (b *cocoBuild) selectImages() []cocoImage {
	order := b.order
	if b.stuff != nil && b.opts.StuffOnly {
		withStuff := map[int]bool{}
		for _, a := range b.stuff.annotations {
			withStuff[a.imageID] = true
		}
		kept := order[:0]
		for _, id := range order {
			if withStuff[id] {
				kept = append(kept, id)
			}
		}
		order = kept
	}
	var imgs []cocoImage
	for _, id := range order {
		n := len(b.objs[id])
		if b.opts.MinObjectsPerImage <= n && n <= b.opts.MaxObjectsPerImage {
			imgs = append(imgs, cocoImage{id: id, path: b.info[id].path, objs: b.objs[id]})
		}
	}
	return imgs
}

// pick is the whitelist if one was given, else all names.
func pick(whitelist, all []string) []string {
	if whitelist == nil {
		return all
	}
	return whitelist
}

// cocoVocab builds the release's COCO vocabulary from category names and
// ids.
func cocoVocab(nameToIdx map[string]int) (*model.Vocab, error) {
	v := &model.Vocab{ObjectNameToIdx: map[string]int{}, PredNameToIdx: map[string]int{}}
	nameToIdx[model.ImageObject] = 0
	maxIdx := 0
	byIdx := map[int]string{}
	for name, idx := range nameToIdx {
		if other, dup := byIdx[idx]; dup {
			return nil, fmt.Errorf("categories %q and %q share id %d", other, name, idx)
		}
		byIdx[idx] = name
		maxIdx = max(maxIdx, idx)
		v.ObjectNameToIdx[name] = idx
	}
	v.ObjectIdxToName = make([]string, maxIdx+1)
	for i := range v.ObjectIdxToName {
		v.ObjectIdxToName[i] = "NONE"
	}
	for name, idx := range nameToIdx {
		v.ObjectIdxToName[idx] = name
	}
	for i, p := range cocoPredicates {
		v.PredIdxToName = append(v.PredIdxToName, p)
		v.PredNameToIdx[p] = i
	}
	return v, nil
}

// Len is the number of images, at most MaxSamples when that is set.
func (c *COCO) Len() int {
	if c.opts.MaxSamples > 0 {
		return min(len(c.imgs), c.opts.MaxSamples)
	}
	return len(c.imgs)
}

// Vocab is the dataset's vocabulary.
func (c *COCO) Vocab() *model.Vocab { return c.vocab }

// NumObjects is the number of objects (without __image__) of the images
// Len counts, as the release's total_objects.
func (c *COCO) NumObjects() int {
	n := 0
	for _, im := range c.imgs[:c.Len()] {
		n += len(im.objs)
	}
	return n
}

// ImageID is the COCO id of image i.
func (c *COCO) ImageID(i int) int { return c.imgs[i].id }

// Example loads image i as the release's __getitem__ does: the image
// resized to ImageSize; boxes divided by the image file's own size; each
// mask the object's segmentation cropped to its box rounded to whole
// pixels (half to even, as Python 3's round) and at least one pixel wide,
// resized to M x M and thresholded; __image__ last with box (0, 0, 1, 1)
// and a full mask; then a random scene graph drawn with rng.
func (c *COCO) Example(i int, rng *rand.Rand) (*Example, error) {
	if i < 0 || i >= c.Len() {
		return nil, fmt.Errorf("data: COCO example %d out of range [0, %d)", i, c.Len())
	}
	rec := &c.imgs[i]
	img, fw, fh, err := loadImage(rec.path, c.opts.ImageSize[0], c.opts.ImageSize[1], c.opts.NormalizeImages)
	if err != nil {
		return nil, fmt.Errorf("COCO image %d: %w", rec.id, err)
	}
	m := c.opts.MaskSize
	ex := &Example{Image: img}
	if m > 0 {
		ex.Masks = make([][]float32, 0, len(rec.objs)+1)
	}
	var files [2]*os.File
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	for _, o := range rec.objs {
		x, y, w, h := o.bbox[0], o.bbox[1], o.bbox[2], o.bbox[3]
		ex.Objs = append(ex.Objs, o.category)
		ex.Boxes = append(ex.Boxes, [4]float32{
			float32(x / float64(fw)), float32(y / float64(fh)),
			float32((x + w) / float64(fw)), float32((y + h) / float64(fh)),
		})
		if m == 0 {
			continue
		}
		if files[o.file] == nil {
			if files[o.file], err = os.Open(c.files[o.file]); err != nil {
				return nil, err
			}
		}
		seg, err := readSegmentation(files[o.file], c.files[o.file], o)
		if err != nil {
			return nil, err
		}
		mx0, mx1 := roundPixel(x), roundPixel(x+w)
		my0, my1 := roundPixel(y), roundPixel(y+h)
		mx1, my1 = max(mx0+1, mx1), max(my0+1, my1)
		crop, ch, cw, err := seg.crop(fh, fw, mx0, my0, mx1, my1)
		if err != nil {
			return nil, formatErr(c.files[o.file], "annotation id %d: segmentation: %v", o.id, err)
		}
		mask := make([]float32, m*m)
		resizeMask(mask, crop, ch, cw, m)
		ex.Masks = append(ex.Masks, mask)
	}
	ex.AppendImageObject(c.vocab.ObjectNameToIdx[model.ImageObject], m)
	ex.Triples = cocoTriples(ex.Boxes, ex.Masks, m, c.opts.IncludeRelationships, rng)
	return ex, nil
}

// roundPixel is Python 3's int(round(v)) (half to even), clamped to a
// range that keeps the crop arithmetic exact.
func roundPixel(v float64) int {
	return int(math.RoundToEven(max(-1, min(v, maxSide+1))))
}

// readSegmentation re-reads one annotation from its byte range.
func readSegmentation(f *os.File, path string, o cocoObject) (segmentation, error) {
	buf := make([]byte, o.n)
	if _, err := f.ReadAt(buf, o.off); err != nil {
		return segmentation{}, fmt.Errorf("data: %s: re-reading annotation id %d: %v (did the file change?)", path, o.id, err)
	}
	// The range starts after the previous token: skip the comma and spaces.
	if k := bytes.IndexByte(buf, '{'); k >= 0 {
		buf = buf[k:]
	}
	var a cocoAnnotation
	if err := json.Unmarshal(buf, &a); err != nil || a.ID != o.id {
		return segmentation{}, formatErr(path, "annotation id %d is no longer where it was read (did the file change?)", o.id)
	}
	seg, err := parseSegmentation(a.Segmentation)
	if err != nil {
		return segmentation{}, formatErr(path, "annotation id %d: segmentation: %v", o.id, err)
	}
	return seg, nil
}
