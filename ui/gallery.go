package ui

import (
	"github.com/sg2im-go/sg2im/model"
)

// Example is a gallery scene in the one-line syntax.
type Example struct {
	Title string
	Text  string
}

// examples cover the shipped model's world; Gallery keeps those a model
// can draw.
var examples = []Example{
	{"Sheep on a meadow", "sheep on grass; sky above grass; sun in sky; tree right of sheep"},
	{"Harbour", "boat on sea; sky above sea; cloud in sky; house left of sea"},
	{"Country road", "car on road; house behind car; tree left of house; sky above house"},
	{"Beach", "person on sand; sea above sand; bird in sky; sky above sea"},
	{"Winter", "house on snow; mountain behind house; sky above mountain"},
	{"Flowers", "flower on grass; sheep in front of tree; cloud in sky"},
	{"Sheep on a meadow", "sky above grass; sheep inside grass; cloud inside sky"},
	{"A house by the road", "house above road; car inside road; sky above house; tree left of house"},
	{"Seaside", "sky above ocean; cloud inside sky; person left of ocean"},
	{"Street", "person left of car; car inside road; house above road; sky above house"},
	{"Two trees", "tree left of tree#2; grass below tree; sky above tree#2; sheep right of tree#2"},
	{"Beach day", "sky above sea; sand below sea; sun inside sky; boat inside sea; person inside sand"},
	{"Mountains", "sky above mountain; snow inside mountain; grass below mountain; bird inside sky"},
	{"Village", "house left of house#2; road below house; tree right of house#2; sky above house"},
	{"Flower field", "grass below sky; flower inside grass; flower#2 inside grass; sun inside sky"},
}

// Gallery returns the examples whose words the vocabulary knows; if none
// fit, one built from the vocabulary's first words.
func Gallery(v *model.Vocab) []Example {
	var out []Example
	preds := v.Predicates()
	seen := map[string]bool{}
	for _, ex := range examples {
		if seen[ex.Title] {
			continue
		}
		g, err := model.ParseText(ex.Text, preds)
		if err != nil {
			continue
		}
		if _, err := model.Encode([]model.SceneGraph{g}, v); err == nil {
			out = append(out, ex)
			seen[ex.Title] = true
		}
	}
	if len(out) > 0 {
		return out
	}
	objs := v.Objects()
	if len(objs) == 0 {
		return nil
	}
	g := model.SceneGraph{Objects: objs[:min(3, len(objs))]}
	if len(preds) > 0 && len(g.Objects) > 1 {
		g.Relationships = []model.Relationship{{Subject: 0, Predicate: preds[0], Object: 1}}
	}
	return []Example{{"First words", model.FormatText(g)}}
}
