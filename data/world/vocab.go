package world

import (
	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/model"
)

// Category ids are the world's object ids: __image__ is 0, then the stuff,
// then the things, in the order of categoryNames.
const (
	imageObj = iota // __image__
	sky
	grass
	sea
	sand
	road
	mountain
	snow
	sun
	cloud
	tree
	house
	sheep
	person
	car
	boat
	bird
	flower
	numCategories
)

// firstThing is the id of the first "thing" category; ids below it (after
// __image__) are "stuff".
const firstThing = sun

var categoryNames = [numCategories]string{
	model.ImageObject,
	"sky", "grass", "sea", "sand", "road", "mountain", "snow",
	"sun", "cloud", "tree", "house", "sheep", "person", "car", "boat", "bird", "flower",
}

// Predicate ids: the release's COCO predicates in its order, then the
// semantic ones.
const (
	predInImage     = data.PredInImage
	predLeftOf      = data.PredLeftOf
	predRightOf     = data.PredRightOf
	predAbove       = data.PredAbove
	predBelow       = data.PredBelow
	predInside      = data.PredInside
	predSurrounding = data.PredSurrounding
	predOn          = iota // 7: the semantic ids follow the seven COCO ones
	predIn
	predBehind
	predInFrontOf
	numPredicates
)

// semanticNames are the semantic predicates, in id order from predOn.
var semanticNames = []string{"on", "in", "behind", "in front of"}

// Categories returns the world's object names in id order, __image__
// first.
func Categories() []string { return categoryNames[:] }

// Stuff reports whether a category name is "stuff" (amorphous regions:
// sky, grass, sea, sand, road, mountain, snow) rather than a "thing".
func Stuff(name string) bool {
	for id := sky; id < firstThing; id++ {
		if categoryNames[id] == name {
			return true
		}
	}
	return false
}

// Predicates returns the world's predicates in id order: __in_image__, the
// six geometric predicates of the release's COCO rule, then on, in, behind
// and in front of.
func Predicates() []string {
	return append(data.COCOPredicates(), semanticNames...)
}

// NewVocab returns the world's vocabulary: dense object ids with __image__
// at 0, predicates as Predicates lists them.
func NewVocab() *model.Vocab {
	return model.NewVocab(categoryNames[1:], Predicates()[1:])
}
