// Package eval measures a generator trained on the built-in world
// (data/world) on held-out scenes, which training never sees, and holds the
// object classifier that the recognisability metric uses.
//
// # Metrics (Run)
//
// Each of the N held-out scenes gives a graph: its objects and the triples
// the world draws for it (the release's random geometric triples, one
// semantic fact per object, the __in_image__ triples), the words mapped to
// the model's ids by name. The generator runs three times per batch of
// graphs: with the true layout (the scene's boxes and masks) and from the
// graph alone (predicted boxes and masks) with two noise seeds (which also
// draw the appearance vectors of models that have them).
//
//   - Relationship satisfaction: the share of the graphs' geometric
//     triples (left of, right of, above, below, inside, surrounding) for
//     which the rule of spec section 5 (data.SpatialPredicate), applied to
//     the predicted boxes, gives the triple's predicate; overall and per
//     predicate. The rule's centres are the centroids of the predicted
//     masks thresholded at one half (box centres where a mask comes out
//     empty), or the box centres for models without masks. The scenes'
//     true layouts satisfy every triple (TestWorldTriplesHoldOnTrueLayout).
//   - Recognisability: the classifier's top-1 accuracy against the
//     object's true category, over the real objects (__image__ left out),
//     on 32x32 crops (CropBoxes) of the real image at the true boxes (the
//     ceiling, at the model's resolution), of the image generated with the
//     true layout at the true boxes, and of the image generated from the
//     graph at the predicted boxes; overall and per category.
//   - L1: the mean |generated - real| per value of the images generated
//     with the true layout, in ImageNet-normalised units (the training's
//     L1 pixel loss) and in [0, 1] pixels (both un-normalised and clamped
//     to [0, 1], without the per-image contrast stretch of
//     model.Deprocess).
//   - Diversity: the mean |a - b| in [0, 1] pixels between the images of
//     one graph generated from two noise seeds (predicted layout; the
//     predicted boxes do not depend on the noise).
//   - Box IoU: the mean intersection over union of the predicted boxes
//     with the scenes' boxes, over the real objects.
//   - Layout (LayoutStats): predicted boxes reaching more than 1% of the
//     side past the frame, and pairs of objects of one category in a
//     scene whose predicted (and, for reference, real) boxes overlap with
//     IoU above one half.
//   - Object FID (ObjectFID): the Fréchet distance between Gaussians fitted
//     to the classifier's penultimate layer (its last stage, averaged over
//     2x2 cells: 256 features) on crops of generated objects (true boxes
//     for the true layout, predicted boxes for the predicted one) and on
//     the real crops of held-out scenes N..2N-1, disjoint from the
//     evaluated ones; its floor is the evaluated scenes' real crops against
//     the same reference. The matrix square root's eigendecompositions are
//     gonum's.
//
// Models with instance embeddings get the instance indices a graph's
// author would write: the objects of one category numbered from left to
// right by their true boxes, as training numbers them.
//
// Scene i's triples and noise depend only on the seed and i, so a report
// is the same for any batch size and deterministic for a seed.
//
// # The classifier
//
// Classifier is a small CNN (3x3 convolutions of 16, 32 and 64 channels,
// each with a ReLU and a 2x2 average pool, then a linear layer; about 40k
// parameters) over 32x32 crops, one class per world category. It is
// trained with package nn's autograd and Adam on crops of real training
// scenes (TrainClassifier), with jittered and mirrored boxes. The shipped
// weights/shipped/classifier.safetensors, with its config and its training record
// (held-out accuracy included) in the metadata, is made by
//
//	sg2im eval --train_classifier --out weights/shipped/classifier.safetensors
package eval
