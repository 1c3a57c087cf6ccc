// Package world is a built-in procedural world: seeded outdoor scenes with
// exact instance masks and true scene graphs, streamed into training as a
// data.Dataset or exported in COCO format (WriteCOCO, `sg2im world`).
//
// # Scenes
//
// A scene is drawn at Supersample (4) times the image size and box-filtered
// down, so edges are anti-aliased. It is laid out from one of five
// templates (meadow; street: grass with a road across; beach: sea then
// sand; lake: sea then grass; winter: snow, maybe a road) with a horizon
// at 30% to 52% of the height, sometimes mountains on it, a sky that is
// blue, overcast or at dusk, and 1 to 6 things, at most 8 objects in all
// by default (the release's COCO images have 3 to 8).
//
// There are 17 categories, ids in this order after __image__ (0):
//
//	stuff:  sky grass sea sand road mountain snow
//	things: sun cloud tree house sheep person car boat bird flower
//
// Each thing has its own look, varied per scene in colour, size, texture
// and pose: a sun with or without rays, clouds of 3 to 5 lumps, round or
// pine trees, houses with gable or hipped roofs, sheep and cars facing
// either way, people standing, walking or waving, sail or motor boats,
// birds in flight, flowers of seven colours. Common sense holds: sheep and
// flowers stand on grass, trees and houses on grass or snow, people on
// grass, snow or sand, cars on the road, boats on the sea; the sun, clouds
// and birds fly in the sky clear of the mountains. A ground thing whose
// base is at depth s (0 on the horizon, 1 at the bottom edge) is drawn at
// scale 0.3 + 0.7s, so farther things are smaller and higher, and things
// are drawn from the horizon down, so nearer ones cover farther ones.
//
// Every pixel of the drawing carries the id of the object painted last
// there; an image pixel belongs to the object covering most of its 4 x 4
// block. Masks are therefore the exact visible masks, and the objects
// partition the image. A thing less than 55% visible or under 10 pixels
// (at 64x64) is dropped and the scene drawn again.
//
// # Scene graphs
//
// Predicates, in id order: __in_image__, the six geometric predicates of
// the release's COCO rule (left of, right of, above, below, inside,
// surrounding), then on, in, behind, in front of. Example draws, with the
// rng it is given: the release's random geometric triples (each object
// paired with a random other, the rule applied to boxes and mask
// centroids: data.SpatialTriples), then for each object one semantic fact
// that involves it, then the __in_image__ triples. The facts hold by
// construction: a ground thing is on the stuff under its base; a sky thing
// is in the sky; a thing is behind another, and that one in front of it,
// when the nearer one covers part of it, or when both stand on the ground
// with boxes overlapping by a quarter of the narrower width and the nearer
// base at least 3% of the image lower.
//
// # Determinism and the held-out range
//
// Scene i is a pure function of (Options.Seed, key(i)) and the options:
// its image, objects, boxes and masks never depend on the rng passed to
// Example, which only draws the triples, so each epoch sees fresh graphs of
// the same scenes. Training scenes have keys 0 <= i < 2^40 (Options.N is
// capped at HeldoutBase); held-out scenes (Options.Heldout) have keys
// HeldoutBase + i, so evaluation never meets a training scene, whatever
// the seeds.
//
// A 64x64 scene takes about 2 ms of one CPU core to draw (BenchmarkScene64).
package world
