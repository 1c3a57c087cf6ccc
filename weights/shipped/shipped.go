// Package shipped embeds the project's demo model and the world's object
// classifier, so that binaries built with `go install` need no checkout:
// `sg2im generate` and `sg2im eval` default to them, and so does the
// library (sg2im.Shipped).
//
// model.safetensors is the generator `make train-demo` trains on the
// procedural world (data/world); classifier.safetensors is the crop
// classifier `sg2im eval` scores recognisability with
// (`sg2im eval --train_classifier --out weights/shipped/classifier.safetensors`).
// Importing this package adds both files (about 12.5 MB) to a binary; the
// browser app fetches the model instead and does not import it.
package shipped

import _ "embed"

// Model is weights/shipped/model.safetensors, the default generator.
//
//go:embed model.safetensors
var Model []byte

// ModelName names Model in messages.
const ModelName = "the shipped model"

// Classifier is weights/shipped/classifier.safetensors, the object
// classifier of `sg2im eval`.
//
//go:embed classifier.safetensors
var Classifier []byte
