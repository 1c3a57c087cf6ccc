package model

import (
	"fmt"
	"sort"
	"strings"
)

// Names of the special object and predicate that encoding adds.
const (
	ImageObject   = "__image__"
	InImagePred   = "__in_image__"
	maxVocabWords = 1 << 20
)

// Vocab maps object and predicate names to ids, as the release stores it.
// Object ids may be sparse (COCO category ids): ObjectIdxToName then has
// "NONE" holes, so names are always looked up through ObjectNameToIdx.
type Vocab struct {
	ObjectIdxToName []string       `json:"object_idx_to_name"`
	ObjectNameToIdx map[string]int `json:"object_name_to_idx"`
	PredIdxToName   []string       `json:"pred_idx_to_name"`
	PredNameToIdx   map[string]int `json:"pred_name_to_idx"`
}

// NewVocab builds a dense vocabulary from object and predicate names;
// __image__ and __in_image__ are put first if missing.
func NewVocab(objects, preds []string) *Vocab {
	v := &Vocab{ObjectNameToIdx: map[string]int{}, PredNameToIdx: map[string]int{}}
	add := func(list *[]string, m map[string]int, name string) {
		if _, ok := m[name]; !ok {
			m[name] = len(*list)
			*list = append(*list, name)
		}
	}
	add(&v.ObjectIdxToName, v.ObjectNameToIdx, ImageObject)
	for _, o := range objects {
		add(&v.ObjectIdxToName, v.ObjectNameToIdx, o)
	}
	add(&v.PredIdxToName, v.PredNameToIdx, InImagePred)
	for _, p := range preds {
		add(&v.PredIdxToName, v.PredNameToIdx, p)
	}
	return v
}

// Validate checks that the maps agree with the lists' sizes and that the
// special words exist.
func (v *Vocab) Validate() error {
	if len(v.ObjectIdxToName) > maxVocabWords || len(v.PredIdxToName) > maxVocabWords {
		return fmt.Errorf("model: vocab has more than %d words", maxVocabWords)
	}
	for name, i := range v.ObjectNameToIdx {
		if i < 0 || i >= len(v.ObjectIdxToName) {
			return fmt.Errorf("model: vocab: object %q has id %d, outside object_idx_to_name (%d entries)", name, i, len(v.ObjectIdxToName))
		}
	}
	for name, i := range v.PredNameToIdx {
		if i < 0 || i >= len(v.PredIdxToName) {
			return fmt.Errorf("model: vocab: predicate %q has id %d, outside pred_idx_to_name (%d entries)", name, i, len(v.PredIdxToName))
		}
	}
	if _, ok := v.ObjectNameToIdx[ImageObject]; !ok {
		return fmt.Errorf("model: vocab has no %q object; it is not an sg2im vocabulary", ImageObject)
	}
	if _, ok := v.PredNameToIdx[InImagePred]; !ok {
		return fmt.Errorf("model: vocab has no %q predicate; it is not an sg2im vocabulary", InImagePred)
	}
	return nil
}

// Objects lists the object names a user may write, sorted.
func (v *Vocab) Objects() []string { return userWords(v.ObjectNameToIdx, ImageObject) }

// Predicates lists the predicate names a user may write, sorted.
func (v *Vocab) Predicates() []string { return userWords(v.PredNameToIdx, InImagePred) }

func userWords(m map[string]int, special string) []string {
	var out []string
	for w := range m {
		if w != special {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

// ObjectID returns the id of an object name.
func (v *Vocab) ObjectID(name string) (int, error) {
	if i, ok := v.ObjectNameToIdx[name]; ok {
		return i, nil
	}
	return 0, &UnknownWordError{Kind: "object", Word: name, Suggestions: closest(name, v.Objects())}
}

// PredID returns the id of a predicate name.
func (v *Vocab) PredID(name string) (int, error) {
	if i, ok := v.PredNameToIdx[name]; ok {
		return i, nil
	}
	return 0, &UnknownWordError{Kind: "predicate", Word: name, Suggestions: closest(name, v.Predicates())}
}

// UnknownWordError names a word the vocabulary lacks and close words it has.
type UnknownWordError struct {
	Kind        string // "object" or "predicate"
	Word        string
	Suggestions []string
}

func (e *UnknownWordError) Error() string {
	msg := fmt.Sprintf("unknown %s %q", e.Kind, clip([]byte(e.Word)))
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + quoteList(e.Suggestions) + "?"
	} else {
		msg += "; this model does not know it"
	}
	return msg
}

func quoteList(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, " or ")
}

// closest returns up to three words near w: those that contain it or are
// within a small edit distance, nearest first.
func closest(w string, words []string) []string {
	type cand struct {
		word string
		d    int
	}
	lw := strings.ToLower(strings.TrimSpace(w))
	var cs []cand
	for _, x := range words {
		lx := strings.ToLower(x)
		d := editDistance(lw, lx)
		limit := max(1, len([]rune(lw))/3)
		if lw != "" && (strings.Contains(lx, lw) || strings.Contains(lw, lx)) {
			d = min(d, 1)
		}
		if d <= limit {
			cs = append(cs, cand{x, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].word)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, capped in
// length so a pasted essay cannot cost quadratic time.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
