package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// SceneGraph is one image's objects and relationships, as users write it:
//
//	{"objects": ["sky", "grass", "sheep"],
//	 "relationships": [[0, "above", 1], [2, "standing on", 1]]}
type SceneGraph struct {
	Objects       []string       `json:"objects"`
	Relationships []Relationship `json:"relationships"`
}

// Relationship is [subject index, predicate, object index], indices into
// the graph's Objects.
type Relationship struct {
	Subject   int
	Predicate string
	Object    int
}

// MarshalJSON writes the release's three-element array.
func (r Relationship) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{r.Subject, r.Predicate, r.Object})
}

// UnmarshalJSON reads [subject, "predicate", object].
func (r *Relationship) UnmarshalJSON(b []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil || len(parts) != 3 {
		return graphErr(ErrShape, FieldRelationships, -1, "relationship %s: want [subject index, \"predicate\", object index]", clip(b))
	}
	if err := json.Unmarshal(parts[0], &r.Subject); err != nil {
		return graphErr(ErrShape, FieldRelationships, -1, "relationship %s: subject %s is not an integer index", clip(b), parts[0])
	}
	if err := json.Unmarshal(parts[1], &r.Predicate); err != nil {
		return graphErr(ErrShape, FieldRelationships, -1, "relationship %s: predicate %s is not a string", clip(b), parts[1])
	}
	if err := json.Unmarshal(parts[2], &r.Object); err != nil {
		return graphErr(ErrShape, FieldRelationships, -1, "relationship %s: object %s is not an integer index", clip(b), parts[2])
	}
	return nil
}

func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

// Limits on one request, so that a pasted file cannot exhaust memory.
const (
	MaxGraphs          = 1024
	MaxObjectsPerGraph = 256
	MaxTriplesPerGraph = 4096
	// MaxGraphBytes bounds a scene-graph file or paste, checked before it
	// is parsed: far more than MaxGraphs graphs of ordinary words take.
	MaxGraphBytes = 16 << 20
)

// ParseGraphs reads one scene graph or a JSON list of them and checks their
// structure (not their words, which depend on the model's vocabulary).
// Errors are *GraphError, wrapped with "scene graphs: ".
func ParseGraphs(data []byte) ([]SceneGraph, error) {
	graphs, err := parseGraphs(data)
	if err != nil {
		return nil, fmt.Errorf("scene graphs: %w", err)
	}
	return graphs, nil
}

func parseGraphs(data []byte) ([]SceneGraph, error) { return parseList[SceneGraph](data) }

// checked is a graph, or a Scene, that can check itself.
type checked[T any] interface {
	*T
	Check() error
}

// parseList reads one T or a JSON list of them, strictly (no unknown
// fields), and checks each.
func parseList[T any, PT checked[T]](data []byte) ([]T, error) {
	if len(data) > MaxGraphBytes {
		return nil, graphErr(ErrTooMany, "", -1, "%d bytes, at most %d MiB at a time; split the file", len(data), MaxGraphBytes>>20)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, graphErr(ErrEmpty, "", -1, "empty input; want a JSON object {\"objects\": [...], \"relationships\": [...]} or a list of them")
	}
	var graphs []T
	var err error
	list := data[0] == '['
	if list {
		graphs, err = decodeList[T](data)
	} else {
		var g T
		err = strictUnmarshal(data, &g)
		graphs = []T{g}
	}
	if errors.Is(err, errTooManyGraphs) {
		return nil, graphErr(ErrTooMany, "", -1, "%v", err)
	}
	if err != nil {
		return nil, jsonFileError(data, err)
	}
	if len(graphs) == 0 {
		return nil, graphErr(ErrEmpty, "", -1, "the list is empty; give at least one graph")
	}
	for i := range graphs {
		if err := PT(&graphs[i]).Check(); err != nil {
			if list {
				return nil, inGraph(err, i)
			}
			return nil, err
		}
	}
	return graphs, nil
}

// errTooManyGraphs stops decoding a list at its (MaxGraphs+1)-th graph.
var errTooManyGraphs = fmt.Errorf("more than %d graphs, at most %d at a time", MaxGraphs, MaxGraphs)

// decodeList decodes a JSON list of graphs one by one, so that a list
// too long is refused before it is all in memory.
func decodeList[T any](data []byte) ([]T, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if _, err := dec.Token(); err != nil { // the '['
		return nil, err
	}
	var graphs []T
	for dec.More() {
		if len(graphs) == MaxGraphs {
			return nil, errTooManyGraphs
		}
		var g T
		if err := dec.Decode(&g); err != nil {
			return nil, err
		}
		graphs = append(graphs, g)
	}
	if _, err := dec.Token(); err != nil { // the ']'
		return nil, err
	}
	if dec.More() {
		return nil, errExtraData
	}
	return graphs, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errExtraData
	}
	return nil
}

// Check validates one graph's structure: objects present, indices in
// range. Errors are *GraphError.
func (g *SceneGraph) Check() error {
	if len(g.Objects) == 0 {
		return graphErr(ErrEmpty, FieldObjects, -1, "no objects; a scene needs at least one object")
	}
	if len(g.Objects) > MaxObjectsPerGraph {
		return graphErr(ErrTooMany, FieldObjects, -1, "%d objects, at most %d per graph", len(g.Objects), MaxObjectsPerGraph)
	}
	if len(g.Relationships) > MaxTriplesPerGraph {
		return graphErr(ErrTooMany, FieldRelationships, -1, "%d relationships, at most %d per graph", len(g.Relationships), MaxTriplesPerGraph)
	}
	for i, r := range g.Relationships {
		for _, idx := range []int{r.Subject, r.Object} {
			if idx < 0 || idx >= len(g.Objects) {
				return graphErr(ErrIndex, FieldRelationships, i, "[%d, %q, %d]: index %d out of range; objects are numbered 0 to %d",
					r.Subject, r.Predicate, r.Object, idx, len(g.Objects)-1)
			}
		}
	}
	return nil
}

// Batch is scene graphs encoded for the generator: every graph gets an
// extra __image__ object and an __in_image__ triple from each of its objects.
type Batch struct {
	Objs      []int    // object ids, all graphs concatenated
	Triples   [][3]int // (subject, predicate id, object), indices into Objs
	ObjToImg  []int    // graph index of each object
	NumImages int
}

// Encode turns graphs into a batch with the vocabulary's ids.
func Encode(graphs []SceneGraph, v *Vocab) (*Batch, error) {
	imageID, err := v.ObjectID(ImageObject)
	if err != nil {
		return nil, err
	}
	inImage, err := v.PredID(InImagePred)
	if err != nil {
		return nil, err
	}
	b := &Batch{NumImages: len(graphs)}
	for gi, g := range graphs {
		if err := g.Check(); err != nil {
			return nil, inGraph(err, gi)
		}
		base := len(b.Objs)
		for oi, name := range g.Objects {
			id, err := v.ObjectID(name)
			if err != nil {
				return nil, &GraphError{Kind: ErrUnknownWord, Field: FieldObjects, Graph: gi, Index: oi, Err: err}
			}
			b.Objs = append(b.Objs, id)
			b.ObjToImg = append(b.ObjToImg, gi)
		}
		imageObj := len(b.Objs)
		b.Objs = append(b.Objs, imageID)
		b.ObjToImg = append(b.ObjToImg, gi)
		for ri, r := range g.Relationships {
			p, err := v.PredID(r.Predicate)
			if err != nil {
				return nil, &GraphError{Kind: ErrUnknownWord, Field: FieldRelationships, Graph: gi, Index: ri, Err: err}
			}
			b.Triples = append(b.Triples, [3]int{base + r.Subject, p, base + r.Object})
		}
		for j := range g.Objects {
			b.Triples = append(b.Triples, [3]int{base + j, inImage, imageObj})
		}
	}
	return b, nil
}
