package model

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sg2im-go/sg2im/nn"
)

// Scene is a scene graph as the app's Export JSON saves it: the release's
// format with, optionally, the seed it was drawn with, the boxes the user
// pinned and the objects' own appearance seeds:
//
//	{"objects": ["sky", "grass", "sheep"],
//	 "relationships": [[0, "above", 1], [2, "standing on", 1]],
//	 "seed": 3, "boxes": [null, null, [0.1, 0.5, 0.4, 0.9]],
//	 "appearance_seeds": [null, 17, null]}
type Scene struct {
	SceneGraph
	// Seed, when set, is the seed this graph's image is drawn with.
	Seed *uint64 `json:"seed,omitempty"`
	// Boxes are nil, or one (x0, y0, x1, y1) in [0, 1] per object: null
	// where the model places the object, a box where it is pinned.
	Boxes []*[4]float32 `json:"boxes,omitempty"`
	// AppearanceSeeds are nil, or one per object: null for the look the
	// image's seed draws, a number for the object's own look (see
	// ObjectAppearance; models with appearance vectors only).
	AppearanceSeeds []*uint64 `json:"appearance_seeds,omitempty"`
}

// Fields of a Scene beyond its graph, as GraphError.Field names them.
const (
	FieldSeed            = "seed"
	FieldBoxes           = "boxes"
	FieldAppearanceSeeds = "appearance_seeds"
)

// ParseScenes reads one scene or a JSON list of them: scene graphs in the
// release's format, each with, optionally, the fields the app's Export
// JSON adds (Scene). Other fields are refused, as ParseGraphs does.
// Errors are *GraphError, wrapped with "scene graphs: ".
func ParseScenes(data []byte) ([]Scene, error) {
	scenes, err := parseList[Scene](data)
	if err != nil {
		return nil, fmt.Errorf("scene graphs: %w", sceneFieldNames(err))
	}
	return scenes, nil
}

// sceneFieldNames names a scene's fields in an unknown-field error.
func sceneFieldNames(err error) error {
	var ge *GraphError
	if errors.As(err, &ge) && strings.HasPrefix(ge.Err.Error(), "unknown field ") {
		name, _, _ := strings.Cut(strings.TrimPrefix(ge.Err.Error(), "unknown field "), ";")
		placed := *ge
		placed.Err = fmt.Errorf("unknown field %s; a scene has \"objects\", \"relationships\" and, as the app exports them, \"seed\", \"boxes\" and \"appearance_seeds\"", name)
		return &placed
	}
	return err
}

// Check validates the graph, then the boxes and appearance seeds: none, or
// one per object; each box inside the image and not empty.
func (s *Scene) Check() error {
	if err := s.SceneGraph.Check(); err != nil {
		return err
	}
	n := len(s.Objects)
	if s.Boxes != nil && len(s.Boxes) != n {
		return graphErr(ErrShape, FieldBoxes, -1, "%d boxes for %d objects; give one per object (null where the model places it)", len(s.Boxes), n)
	}
	for i, b := range s.Boxes {
		if b == nil {
			continue
		}
		for _, v := range b {
			if !(v >= 0 && v <= 1) {
				return graphErr(ErrShape, FieldBoxes, i, "%v: coordinates must be from 0 to 1", *b)
			}
		}
		if b[2] <= b[0] || b[3] <= b[1] {
			return graphErr(ErrShape, FieldBoxes, i, "%v: the box ends before it starts (x1 must exceed x0, y1 exceed y0)", *b)
		}
	}
	if s.AppearanceSeeds != nil && len(s.AppearanceSeeds) != n {
		return graphErr(ErrShape, FieldAppearanceSeeds, -1, "%d appearance seeds for %d objects; give one per object (null for the image's own draw)", len(s.AppearanceSeeds), n)
	}
	return nil
}

// Pins returns the scene's boxes as Options.Boxes and Options.Pinned take
// them, one row per object (zeros where unpinned); nil, nil without pins.
func (s *Scene) Pins() (boxes [][4]float32, pinned []bool) {
	for i, b := range s.Boxes {
		if b == nil {
			continue
		}
		if pinned == nil {
			boxes, pinned = make([][4]float32, len(s.Boxes)), make([]bool, len(s.Boxes))
		}
		boxes[i], pinned[i] = *b, true
	}
	return boxes, pinned
}

// SceneOptions are the Options that draw scenes, encoded as one batch b
// in order, scene i from seeds[i] (its layout noise and appearance
// vectors as a pass with Seed seeds[i] draws them alone), with its pinned
// boxes and its objects' own appearance seeds.
func (g *Generator) SceneOptions(scenes []Scene, seeds []uint64, b *Batch) Options {
	opt := Options{Seed: seeds[0]}
	consecutive, looks, pins := true, false, false
	for i, s := range scenes {
		consecutive = consecutive && seeds[i] == seeds[0]+uint64(i)
		looks = looks || s.AppearanceSeeds != nil
		_, p := s.Pins()
		pins = pins || p != nil
	}
	cfg := &g.Config
	if Z := cfg.LayoutNoiseDim; Z > 0 && !consecutive {
		per := make([]*nn.Tensor, len(scenes))
		for i := range scenes {
			per[i] = Noise(seeds[i], 1, Z, cfg.ImageSize[0], cfg.ImageSize[1])
		}
		opt.Noise = nn.Concat(0, per...)
	}
	if cfg.AppearanceDim > 0 && (looks || !consecutive) {
		per := make([]*nn.Tensor, len(scenes))
		for i, s := range scenes {
			alone := &Batch{ObjToImg: make([]int, len(s.Objects)+1), NumImages: 1}
			per[i] = g.AppearanceWithLooks(seeds[i], alone, s.AppearanceSeeds)
		}
		opt.Appearance = nn.Concat(0, per...)
	}
	if pins {
		opt.Boxes, opt.Pinned = nn.New(len(b.Objs), 4), make([]bool, len(b.Objs))
		o := 0 // the scene's first object in the batch
		for _, s := range scenes {
			boxes, pinned := s.Pins()
			for j := range pinned {
				copy(opt.Boxes.Data[(o+j)*4:], boxes[j][:])
				opt.Pinned[o+j] = pinned[j]
			}
			o += len(s.Objects) + 1 // and its __image__, as predicted
		}
	}
	return opt
}

// BoxesDrawn are the boxes a pass with opt drew, out being its output:
// the given ones where pinned, the predicted ones elsewhere.
func (opt *Options) BoxesDrawn(out *Output) *nn.Tensor {
	if opt.Boxes == nil {
		return out.BoxesPred
	}
	return pinBoxes(opt.Boxes, out.BoxesPred, opt.Pinned)
}
