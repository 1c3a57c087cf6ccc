package sg2im_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/sg2im-go/sg2im"
)

// The shipped model draws a scene written in the one-line syntax.
func Example() {
	m, err := sg2im.Shipped()
	if err != nil {
		log.Fatal(err)
	}
	graphs, err := m.Parse("sheep inside grass; sky above grass")
	if err != nil {
		log.Fatal(err)
	}
	imgs, err := m.Generate(graphs, sg2im.Options{Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	h, w := m.Size()
	img := imgs[0]
	fmt.Println(len(imgs), "image of", img.Graph.Objects, "seed", img.Seed)
	fmt.Println("size matches the model:", img.RGBA.Bounds().Dx() == w && img.RGBA.Bounds().Dy() == h)
	fmt.Println(len(img.Boxes), "boxes,", len(img.Masks), "masks")
	// Output:
	// 1 image of [sheep grass sky] seed 1
	// size matches the model: true
	// 3 boxes, 3 masks
}

// A release checkpoint, and graphs in the release's JSON: image i of a call
// uses seed Seed+i.
func ExampleLoad() {
	m, err := sg2im.Load("testdata/tiny_masks.zip.pt")
	if err != nil {
		log.Fatal(err)
	}
	graphs, err := m.Parse(`[
		{"objects": ["sky", "grass", "sheep"], "relationships": [[0, "above", 1], [2, "below", 0]]},
		{"objects": ["tree", "sheep", "sheep", "cloud"], "relationships": [[1, "left of", 2], [3, "above", 0]]}]`)
	if err != nil {
		log.Fatal(err)
	}
	imgs, err := m.Generate(graphs, sg2im.Options{Seed: 10})
	if err != nil {
		log.Fatal(err)
	}
	for _, img := range imgs {
		fmt.Printf("seed %d: %v, %d objects\n", img.Seed, img.RGBA.Bounds().Size(), len(img.Boxes))
	}
	// Output:
	// seed 10: (32,32), 3 objects
	// seed 11: (32,32), 4 objects
}

// Errors in a graph say which word, and where.
func ExampleModel_Parse_errors() {
	m, err := sg2im.Load("testdata/tiny_masks.zip.pt")
	if err != nil {
		log.Fatal(err)
	}
	for _, text := range []string{
		"sheep near grass",
		`{"objects": ["sky", "grss"]}`,
		`{"objects": "sky"}`,
	} {
		_, err := m.Parse(text)
		var ge *sg2im.GraphError
		if errors.As(err, &ge) {
			fmt.Printf("%s (field %q, index %d)\n", err, ge.Field, ge.Index)
		}
	}
	// Output:
	// "sheep near grass": unknown predicate "near"; this model does not know it (a clause is "subject predicate object", as in "sheep above grass") (field "text", index -1)
	// object 1: unknown object "grss"; did you mean "grass"? (field "objects", index 1)
	// scene graphs: line 1, column 18: "objects" must be a list of words, like ["sky", "grass"]; found a string (field "objects", index -1)
}

// Boxes replace the predicted layout: one (x0, y0, x1, y1) per object.
func ExampleOptions_boxes() {
	m, err := sg2im.Load("testdata/tiny_masks.zip.pt")
	if err != nil {
		log.Fatal(err)
	}
	graphs, err := m.Parse("sky above grass; sheep inside grass")
	if err != nil {
		log.Fatal(err)
	}
	boxes := [][4]float32{{0, 0, 1, 0.4}, {0, 0.4, 1, 1}, {0.2, 0.5, 0.5, 0.8}}
	imgs, err := m.Generate(graphs, sg2im.Options{Boxes: [][][4]float32{boxes}})
	if err != nil {
		log.Fatal(err)
	}
	for i, name := range imgs[0].Graph.Objects {
		fmt.Println(name, imgs[0].Boxes[i])
	}
	// Output:
	// sky [0 0 1 0.4]
	// grass [0 0.4 1 1]
	// sheep [0.2 0.5 0.5 0.8]
}

// The app's Export JSON draws as the app drew it: the scene's own seed
// (over Options.Seed) and its pinned boxes (null: placed by the model).
func ExampleModel_GenerateScenes() {
	m, err := sg2im.Load("testdata/tiny_masks.zip.pt")
	if err != nil {
		log.Fatal(err)
	}
	scenes, err := m.ParseScenes(`{"objects": ["sky", "grass", "sheep"],
		"relationships": [[0, "above", 1], [2, "inside", 1]],
		"seed": 3, "boxes": [null, null, [0.2, 0.5, 0.5, 0.8]]}`)
	if err != nil {
		log.Fatal(err)
	}
	imgs, err := m.GenerateScenes(scenes, sg2im.Options{Seed: 100})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("seed", imgs[0].Seed, "sheep", imgs[0].Boxes[2])
	// Output:
	// seed 3 sheep [0.2 0.5 0.5 0.8]
}
