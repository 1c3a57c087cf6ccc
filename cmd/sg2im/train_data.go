package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/data/world"
)

// opener opens a training split and an optional validation split with the
// model's image and mask sizes (train.Options.OpenData).
type opener = func(imageSize [2]int, maskSize int) (train, val data.Dataset, err error)

// trainDatasets map --dataset values to what opens them. Each checks its
// flags first (a usage or input error) and returns the opener and the
// entries it adds to the checkpoint's args. Another data set plugs in by
// adding an entry.
var trainDatasets = map[string]func(tf *trainFlags) (opener, map[string]any, error){
	"coco":  openCOCOFlags,
	"vg":    openVGFlags,
	"world": openWorldFlags,
}

// openDataset opens the data set --dataset names, with its flags.
func openDataset(tf *trainFlags) (opener, map[string]any, error) {
	open, ok := trainDatasets[tf.dataset]
	if !ok {
		return nil, nil, usageErr("--dataset %q: want coco, vg or world", tf.dataset)
	}
	return open(tf)
}

// worldValScenes is the size of the held-out world split used for
// validation; its scenes never occur in training.
const worldValScenes = 256

// openWorldFlags streams the procedural world: no files, scenes drawn on
// the fly from fixed seeds (training scenes and a disjoint held-out range).
func openWorldFlags(*trainFlags) (opener, map[string]any, error) {
	open := func(imageSize [2]int, maskSize int) (data.Dataset, data.Dataset, error) {
		if imageSize[0] != imageSize[1] {
			return nil, nil, usageErr("--dataset world draws square images; got --image_size %d,%d", imageSize[0], imageSize[1])
		}
		opts := world.DefaultOptions()
		opts.ImageSize, opts.MaskSize = imageSize[0], maskSize
		tr, err := world.New(opts)
		if err != nil {
			return nil, nil, usageErr("--dataset world: %v", err)
		}
		opts.Heldout, opts.N = true, worldValScenes
		val, err := world.New(opts)
		if err != nil {
			return nil, nil, usageErr("--dataset world: %v", err)
		}
		return tr, val, nil
	}
	return open, map[string]any{"dataset": "world"}, nil
}

// The release's default data locations (scripts/train.py).
const (
	cocoDir = "datasets/coco"
	vgDir   = "datasets/vg"
)

// cocoFlags are the release's COCO flags.
type cocoFlags struct {
	trainImages, trainInstances, trainStuff string
	valImages, valInstances, valStuff       string
	minObjectSize                           float64
	minObjects                              int
	stuffOnly, includeOther                 bool
	instanceWhitelist, stuffWhitelist       []string
}

func (c *cocoFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.trainImages, "coco_train_image_dir", cocoDir+"/images/train2017", "COCO training images `directory`")
	fs.StringVar(&c.trainInstances, "coco_train_instances_json", cocoDir+"/annotations/instances_train2017.json", "COCO training instances `file`")
	fs.StringVar(&c.trainStuff, "coco_train_stuff_json", cocoDir+"/annotations/stuff_train2017.json", "COCO-Stuff training `file` (empty: instances only)")
	fs.StringVar(&c.valImages, "coco_val_image_dir", cocoDir+"/images/val2017", "COCO validation images `directory`")
	fs.StringVar(&c.valInstances, "coco_val_instances_json", cocoDir+"/annotations/instances_val2017.json", "COCO validation instances `file` (empty: no validation)")
	fs.StringVar(&c.valStuff, "coco_val_stuff_json", cocoDir+"/annotations/stuff_val2017.json", "COCO-Stuff validation `file` (empty: instances only)")
	fs.Float64Var(&c.minObjectSize, "min_object_size", 0.02, "drop objects whose box covers at most this fraction of the image")
	fs.IntVar(&c.minObjects, "min_objects_per_image", 3, "drop images with fewer objects")
	c.stuffOnly = true
	fs.Var(releaseBool{&c.stuffOnly}, "coco_stuff_only", "keep only images with stuff annotations (0 or 1)")
	fs.Var(releaseBool{&c.includeOther}, "coco_include_other", "keep objects of the category \"other\" (0 or 1)")
	fs.Var(strTuple{&c.instanceWhitelist}, "instance_whitelist", "comma-separated instance categories to keep (default all)")
	fs.Var(strTuple{&c.stuffWhitelist}, "stuff_whitelist", "comma-separated stuff categories to keep (default all)")
}

// pathCheck is a data path to check before anything is read.
type pathCheck struct {
	flag, path string
	dir        bool
}

// check names the flag of a path that is missing or of the wrong kind.
func (c pathCheck) check() error {
	if c.path == "" {
		return usageErr("--%s is required", c.flag)
	}
	fi, err := os.Stat(c.path)
	if err != nil {
		return inputErr(fmt.Errorf("--%s: %w", c.flag, err))
	}
	if fi.IsDir() != c.dir {
		want := "a file"
		if c.dir {
			want = "a directory"
		}
		return inputErr(fmt.Errorf("--%s %s: not %s", c.flag, c.path, want))
	}
	return nil
}

func openCOCOFlags(tf *trainFlags) (opener, map[string]any, error) {
	c := &tf.coco
	if c.minObjects < 0 || tf.maxObjects < c.minObjects {
		return nil, nil, usageErr("--min_objects_per_image %d and --max_objects_per_image %d: want 0 <= min <= max", c.minObjects, tf.maxObjects)
	}
	if c.minObjectSize < 0 || c.minObjectSize >= 1 {
		return nil, nil, usageErr("--min_object_size %g: want a fraction in [0, 1)", c.minObjectSize)
	}
	checks := []pathCheck{{"coco_train_image_dir", c.trainImages, true}, {"coco_train_instances_json", c.trainInstances, false}}
	if c.trainStuff != "" {
		checks = append(checks, pathCheck{"coco_train_stuff_json", c.trainStuff, false})
	}
	withVal := c.valInstances != ""
	if withVal {
		checks = append(checks, pathCheck{"coco_val_image_dir", c.valImages, true},
			pathCheck{"coco_val_instances_json", c.valInstances, false})
		if c.valStuff != "" {
			checks = append(checks, pathCheck{"coco_val_stuff_json", c.valStuff, false})
		}
	}
	for _, ch := range checks {
		if err := ch.check(); err != nil {
			if !strings.HasPrefix(ch.flag, "coco_val") {
				return nil, nil, err
			}
			return nil, nil, inputErr(fmt.Errorf("%v (pass --coco_val_instances_json \"\" to train without validation)", err))
		}
	}
	options := func(images, instances, stuff string, size [2]int, mask int) data.COCOOptions {
		o := data.DefaultCOCOOptions(images, instances, stuff)
		o.ImageSize, o.MaskSize = size, mask
		o.StuffOnly, o.IncludeOther = c.stuffOnly, c.includeOther
		o.MinObjectSize, o.MinObjectsPerImage, o.MaxObjectsPerImage = c.minObjectSize, c.minObjects, tf.maxObjects
		o.InstanceWhitelist, o.StuffWhitelist = c.instanceWhitelist, c.stuffWhitelist
		o.IncludeRelationships = tf.includeRels
		return o
	}
	open := func(size [2]int, mask int) (data.Dataset, data.Dataset, error) {
		o := options(c.trainImages, c.trainInstances, c.trainStuff, size, mask)
		o.MaxSamples = tf.numTrainSamples
		tr, err := data.OpenCOCO(o)
		if err != nil {
			return nil, nil, fmt.Errorf("COCO training set: %w", err)
		}
		if !withVal {
			return tr, nil, nil
		}
		val, err := data.OpenCOCO(options(c.valImages, c.valInstances, c.valStuff, size, mask))
		if err != nil {
			return nil, nil, fmt.Errorf("COCO validation set: %w", err)
		}
		return tr, val, nil
	}
	args := map[string]any{
		"coco_train_image_dir": c.trainImages, "coco_train_instances_json": c.trainInstances,
		"coco_train_stuff_json": c.trainStuff, "coco_val_image_dir": c.valImages,
		"coco_val_instances_json": c.valInstances, "coco_val_stuff_json": c.valStuff,
		"min_object_size": c.minObjectSize, "min_objects_per_image": c.minObjects,
		"max_objects_per_image": tf.maxObjects, "coco_stuff_only": c.stuffOnly,
		"coco_include_other": c.includeOther, "num_train_samples": tf.numTrainSamples,
		"include_relationships": tf.includeRels,
	}
	return open, args, nil
}

// vgFlags locate Visual Genome's JSON files, which data.OpenVG reads
// directly (the release's preprocess_vg.py step is built in).
type vgFlags struct {
	images, imageData, objects, relationships, splits string
	objectAliases, relationshipAliases                string
	useOrphaned                                       bool
}

func (v *vgFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&v.images, "vg_image_dir", vgDir+"/images", "Visual Genome images `directory` (holding VG_100K/ and VG_100K_2/)")
	fs.StringVar(&v.imageData, "vg_image_data_json", vgDir+"/image_data.json", "Visual Genome image_data.json")
	fs.StringVar(&v.objects, "vg_objects_json", vgDir+"/objects.json", "Visual Genome objects.json")
	fs.StringVar(&v.relationships, "vg_relationships_json", vgDir+"/relationships.json", "Visual Genome relationships.json")
	fs.StringVar(&v.splits, "vg_splits_json", "", "the release's vg_splits.json (empty: every image trains, no validation)")
	fs.StringVar(&v.objectAliases, "vg_object_aliases", "", "object_alias.txt (optional)")
	fs.StringVar(&v.relationshipAliases, "vg_relationship_aliases", "", "relationship_alias.txt (optional)")
	v.useOrphaned = true
	fs.Var(releaseBool{&v.useOrphaned}, "vg_use_orphaned_objects", "fill images up with objects in no relationship (0 or 1)")
}

func openVGFlags(tf *trainFlags) (opener, map[string]any, error) {
	v := &tf.vg
	maxObjects := tf.maxObjects
	if !tf.maxObjectsSet {
		maxObjects = 10 // train.py's default for Visual Genome
	}
	if maxObjects < 1 {
		return nil, nil, usageErr("--max_objects_per_image %d: want at least 1", maxObjects)
	}
	checks := []pathCheck{{"vg_image_dir", v.images, true}, {"vg_image_data_json", v.imageData, false},
		{"vg_objects_json", v.objects, false}, {"vg_relationships_json", v.relationships, false}}
	for _, opt := range []struct{ flag, path string }{{"vg_splits_json", v.splits},
		{"vg_object_aliases", v.objectAliases}, {"vg_relationship_aliases", v.relationshipAliases}} {
		if opt.path != "" {
			checks = append(checks, pathCheck{opt.flag, opt.path, false})
		}
	}
	for _, ch := range checks {
		if err := ch.check(); err != nil {
			return nil, nil, err
		}
	}
	options := func(split string, size [2]int) data.VGOptions {
		o := data.DefaultVGOptions(v.images, v.imageData, v.objects, v.relationships)
		o.SplitsJSON, o.Split = v.splits, split
		o.ObjectAliases, o.RelationshipAliases = v.objectAliases, v.relationshipAliases
		o.ImageSize, o.MaxObjects = size, maxObjects
		o.IncludeRelationships, o.UseOrphanedObjects = tf.includeRels, v.useOrphaned
		return o
	}
	open := func(size [2]int, _ int) (data.Dataset, data.Dataset, error) {
		o := options("train", size)
		o.MaxSamples = tf.numTrainSamples
		tr, err := data.OpenVG(o)
		if err != nil {
			return nil, nil, fmt.Errorf("Visual Genome training split: %w", err)
		}
		if v.splits == "" {
			return tr, nil, nil
		}
		val, err := data.OpenVG(options("val", size))
		if err != nil {
			return nil, nil, fmt.Errorf("Visual Genome validation split: %w", err)
		}
		return tr, val, nil
	}
	args := map[string]any{
		"vg_image_dir": v.images, "vg_image_data_json": v.imageData, "vg_objects_json": v.objects,
		"vg_relationships_json": v.relationships, "vg_splits_json": v.splits,
		"max_objects_per_image": maxObjects, "vg_use_orphaned_objects": v.useOrphaned,
		"num_train_samples": tf.numTrainSamples, "include_relationships": tf.includeRels,
	}
	return open, args, nil
}
