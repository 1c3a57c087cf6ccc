package world

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/internal/atomicfile"
)

// Files WriteCOCO makes in its directory.
const (
	COCOImageDir      = "images"
	COCOInstancesFile = "instances.json"
	COCOStuffFile     = "stuff.json"
	COCORelationsFile = "relationships.json"
)

type cocoCategory struct {
	ID            int    `json:"id"`
	Name          string `json:"name"`
	Supercategory string `json:"supercategory"`
}

type cocoImage struct {
	ID       int    `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	SceneKey uint64 `json:"scene_key"` // the world scene it was drawn from
}

type cocoRLE struct {
	Size   [2]int `json:"size"` // height, width
	Counts string `json:"counts"`
}

type cocoAnnotation struct {
	ID           int        `json:"id"`
	ImageID      int        `json:"image_id"`
	CategoryID   int        `json:"category_id"`
	BBox         [4]float64 `json:"bbox"` // x, y, width, height in pixels
	Area         int        `json:"area"`
	IsCrowd      int        `json:"iscrowd"`
	Segmentation cocoRLE    `json:"segmentation"`
}

// COCORelationship is one entry of relationships.json: annotation ids of
// the subject and object, and the predicate name.
type COCORelationship struct {
	SubjectID int    `json:"subject_id"`
	Predicate string `json:"predicate"`
	ObjectID  int    `json:"object_id"`
}

// COCORelations are the relationships of one image in relationships.json.
type COCORelations struct {
	ImageID       int                `json:"image_id"`
	Relationships []COCORelationship `json:"relationships"`
}

// WriteCOCO exports scenes 0..n-1 of w in COCO format under dir:
// images/NNNNNNNN.png, instances.json (the things), stuff.json (the stuff),
// both with compressed-RLE segmentations of the visible pixels and boxes of
// whole pixels, category ids equal to the world's object ids, and
// relationships.json: per image, every semantic fact and the geometric
// predicate of every ordered pair of objects (by the release's rule on the
// options' mask size, or box centres without masks). Image ids are scene
// index + 1; annotation ids count from 1 over both files. progress, if not
// nil, is called after each image.
func WriteCOCO(dir string, w *World, n int, progress func(done int)) error {
	if n < 0 || n > w.Len() {
		return fmt.Errorf("world: export of %d scenes: want 0..%d", n, w.Len())
	}
	if err := os.MkdirAll(filepath.Join(dir, COCOImageDir), 0o755); err != nil {
		return err
	}
	files, err := createCOCOFiles(dir)
	if err != nil {
		return err
	}
	e := &cocoExport{dir: dir, w: w, files: files}
	exportErr := renderInOrder(w, n, func(i int, sc *Scene) error {
		if err := e.scene(i, sc); err != nil {
			return err
		}
		if progress != nil {
			progress(i + 1)
		}
		return nil
	})
	if err := e.close(); err != nil && exportErr == nil {
		exportErr = err
	}
	return exportErr
}

// createCOCOFiles starts instances.json and stuff.json (their categories
// written) and relationships.json.
func createCOCOFiles(dir string) ([3]*jsonArrayFile, error) {
	var cats [2][]cocoCategory // things, stuff
	for id := sky; id < numCategories; id++ {
		k, super := 0, "thing"
		if id < firstThing {
			k, super = 1, "stuff"
		}
		cats[k] = append(cats[k], cocoCategory{ID: id, Name: categoryNames[id], Supercategory: super})
	}
	var files [3]*jsonArrayFile
	var err error
	for k, name := range []string{COCOInstancesFile, COCOStuffFile, COCORelationsFile} {
		head := ""
		if k < 2 {
			c, _ := json.Marshal(cats[k])
			head = `{"info": {"description": "sg2im world scenes"}, "categories": ` + string(c) + `, "annotations": `
		}
		if files[k], err = createJSONArray(filepath.Join(dir, name), head); err != nil {
			for _, f := range files[:k] {
				f.abort()
			}
			return files, err
		}
	}
	return files, nil
}

// cocoExport writes scenes, in order, into the files of WriteCOCO.
type cocoExport struct {
	dir    string
	w      *World
	files  [3]*jsonArrayFile // instances, stuff, relationships
	images []cocoImage
	annID  int // the last annotation id given
}

// scene writes scene i's image, annotations and relationships.
func (e *cocoExport) scene(i int, sc *Scene) error {
	im := cocoImage{ID: i + 1, FileName: fmt.Sprintf("%s/%08d.png", COCOImageDir, i), Width: sc.Size, Height: sc.Size, SceneKey: e.w.Key(i)}
	e.images = append(e.images, im)
	if err := writePNG(filepath.Join(e.dir, im.FileName), sc); err != nil {
		return err
	}
	ids := make([]int, len(sc.Objects))
	for k := range sc.Objects {
		o := &sc.Objects[k]
		e.annID++
		ids[k] = e.annID
		b := o.PixBox
		a := cocoAnnotation{ID: e.annID, ImageID: im.ID, CategoryID: o.Category,
			BBox: [4]float64{float64(b[0]), float64(b[1]), float64(b[2] - b[0]), float64(b[3] - b[1])},
			Area: o.Area, Segmentation: cocoRLE{Size: [2]int{sc.Size, sc.Size}, Counts: data.EncodeRLE(sc.rleCounts(k))}}
		f := e.files[0]
		if o.Stuff {
			f = e.files[1]
		}
		if err := f.add(a); err != nil {
			return err
		}
	}
	return e.files[2].add(e.relations(im.ID, sc, ids))
}

// relations are a scene's facts, then the geometric predicate of every
// ordered pair of its objects; ids are the objects' annotation ids.
func (e *cocoExport) relations(imageID int, sc *Scene, ids []int) COCORelations {
	preds := e.w.vocab.PredIdxToName
	rel := COCORelations{ImageID: imageID}
	for _, f := range sc.Facts {
		rel.Relationships = append(rel.Relationships, COCORelationship{ids[f.S], preds[f.Pred], ids[f.O]})
	}
	m := e.w.opts.MaskSize
	var masks [][]float32
	if m > 0 {
		for k := range sc.Objects {
			masks = append(masks, sc.Mask(k, m))
		}
	}
	for s := range sc.Objects {
		for o := range sc.Objects {
			if s == o {
				continue
			}
			var ms, mo []float32
			if m > 0 {
				ms, mo = masks[s], masks[o]
			}
			p := data.SpatialPredicate(sc.Objects[s].Box, sc.Objects[o].Box, ms, mo, m)
			rel.Relationships = append(rel.Relationships, COCORelationship{ids[s], preds[p], ids[o]})
		}
	}
	return rel
}

// close ends the three files, the images list last in the two COCO ones.
func (e *cocoExport) close() error {
	imgJSON, _ := json.Marshal(e.images)
	if e.images == nil {
		imgJSON = []byte("[]")
	}
	var first error
	for k, f := range e.files {
		tail := ""
		if k < 2 {
			tail = `, "images": ` + string(imgJSON) + "}"
		}
		if err := f.close(tail); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// renderInOrder renders scenes 0..n-1 on all CPUs and hands them to use in
// order.
func renderInOrder(w *World, n int, use func(i int, sc *Scene) error) error {
	const chunk = 64
	workers := runtime.GOMAXPROCS(0)
	for first := 0; first < n; first += chunk {
		last := min(first+chunk, n)
		scenes := make([]*Scene, last-first)
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Go(func() {
				for i := range next {
					scenes[i-first], _ = w.Scene(i) // i is in range
				}
			})
		}
		for i := first; i < last; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		for i, sc := range scenes {
			if err := use(first+i, sc); err != nil {
				return err
			}
		}
	}
	return nil
}

func writePNG(path string, sc *Scene) error {
	img := image.NewNRGBA(image.Rect(0, 0, sc.Size, sc.Size))
	for i := 0; i < sc.Size*sc.Size; i++ {
		copy(img.Pix[4*i:], sc.Pix[3*i:3*i+3])
		img.Pix[4*i+3] = 255
	}
	return atomicfile.WritePNG(path, img)
}

// rleCounts is object k's visible mask as COCO run lengths: column-major
// (pixel (x, y) at x*Size + y), alternating runs of 0 and 1 starting with 0.
func (sc *Scene) rleCounts(k int) []int64 {
	id := uint8(k + 1)
	var counts []int64
	var cur uint8 // value of the current run
	run := int64(0)
	for x := 0; x < sc.Size; x++ {
		for y := 0; y < sc.Size; y++ {
			var v uint8
			if sc.IDs[y*sc.Size+x] == id {
				v = 1
			}
			if v != cur {
				counts = append(counts, run)
				cur, run = v, 0
			}
			run++
		}
	}
	return append(counts, run)
}

// jsonArrayFile writes head, then a JSON array one element at a time, then
// a tail.
type jsonArrayFile struct {
	f    *os.File
	w    *bufio.Writer
	n    int
	path string
}

func createJSONArray(path, head string) (*jsonArrayFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	j := &jsonArrayFile{f: f, w: bufio.NewWriterSize(f, 1<<16), path: path}
	j.w.WriteString(head + "[")
	return j, nil
}

func (j *jsonArrayFile) add(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if j.n > 0 {
		j.w.WriteString(",")
	}
	j.w.WriteString("\n")
	j.n++
	_, err = j.w.Write(b)
	return err
}

func (j *jsonArrayFile) close(tail string) error {
	j.w.WriteString("\n]" + tail + "\n")
	if err := j.w.Flush(); err != nil {
		j.f.Close()
		return fmt.Errorf("world: writing %s: %v", j.path, err)
	}
	return j.f.Close()
}

func (j *jsonArrayFile) abort() { j.f.Close() }
