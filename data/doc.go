// Package data makes sg2im training batches from COCO-Stuff and Visual
// Genome, following the public release (github.com/google/sg2im):
// sg2im/data/coco.py, sg2im/data/vg.py, sg2im/data/utils.py and
// scripts/preprocess_vg.py.
//
// A Dataset hands out Examples (an image, its objects with boxes and
// masks, and a scene graph); Collate stacks examples into a TrainBatch whose
// embedded model.Batch the generator takes; a Loader builds batches in
// background goroutines, reproducibly for a seed whatever the number of
// workers.
//
// # COCO-Stuff (OpenCOCO)
//
// Objects come from the instances file and, optionally, the COCO-Stuff
// file. An object is kept when its bbox area over the image area (both from
// the JSON) is above MinObjectSize (0.02), its category is whitelisted, and
// it is not "other" unless IncludeOther. With StuffOnly (the default) only
// images that have stuff annotations remain. Images keep 3..8 objects.
// Object ids are COCO category ids: the vocabulary's object_idx_to_name
// runs from 0 (__image__) to the largest id with "NONE" in the gaps.
//
// Masks follow pycocotools and scikit-image 0.14 as the release used them:
// polygons are rasterised with pycocotools' rule (rleFrPoly: vertices at
// 5x, column-wise boundary crossings, an even-odd fill), several polygons
// are merged, a list whose first entry has 4 numbers is read as boxes, RLE
// counts may be a compressed string or a list; the mask is cropped to the
// bbox rounded half-to-even (at least one pixel), resized bilinearly to
// M x M with zeros outside and the output clipped to the input's range,
// and thresholded at 128 of 255.
//
// Each time an image is drawn its scene graph is made afresh: every real
// object is paired with a random other one in a random order, and the pair
// gets surrounding, inside, left of, above, right of or below from the
// boxes and the mask centroids; then each object is __in_image__ of the
// __image__ object, which comes last with box (0, 0, 1, 1) and a full mask.
//
// # Visual Genome (OpenVG)
//
// preprocess_vg.py's filtering and vocabulary are applied directly to
// image_data.json, objects.json and relationships.json (no HDF5 file): see
// OpenVG for the thresholds (images of at least 200 pixels a side; object
// names with 2000 training instances; objects of 32 pixels a side; 3..30
// objects and 1..30 relationships an image; predicates with 500 training
// instances) and VG.Example for how objects are drawn (10 per image with
// __image__, those in relationships first). The alias files and the
// release's vg_splits.json are read when given. Visual Genome has no masks.
//
// # Images
//
// Images (JPEG or PNG) are converted to RGB, resized to the model size with
// PIL's bilinear filter as the release does (anti-aliased when shrinking,
// 8-bit fixed point, horizontal pass first), scaled to [0, 1] and
// normalised with the ImageNet mean and deviation. Go's JPEG decoder
// differs from libjpeg by a few levels; PNGs decode identically.
//
// # Errors
//
// Annotation files that are malformed give a *FormatError naming the file
// and the entry. Sizes read from files (image headers, RLE sizes and
// counts, polygon extents) are checked before anything is allocated from
// them.
package data
