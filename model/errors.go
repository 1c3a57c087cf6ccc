package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// ErrorKind says what is wrong with a scene graph.
type ErrorKind int

// The kinds of GraphError.
const (
	ErrSyntax      ErrorKind = iota + 1 // not JSON, or not the one-line syntax
	ErrShape                            // a value of the wrong type or shape
	ErrEmpty                            // no graph, or a graph without objects
	ErrTooMany                          // over one of the Max limits
	ErrIndex                            // a relationship index outside the objects
	ErrUnknownWord                      // a word the vocabulary lacks; errors.As finds its *UnknownWordError
)

// Fields a GraphError can name: the lists of a graph, and the one-line text.
const (
	FieldObjects       = "objects"
	FieldRelationships = "relationships"
	FieldText          = "text"
)

// GraphError is a fault in scene graphs a user wrote, placed so that a
// program (the app, the CLI) can show it next to the part at fault rather
// than guess from the message.
type GraphError struct {
	Kind  ErrorKind
	Field string // FieldObjects, FieldRelationships, FieldText, a Scene's FieldSeed, FieldBoxes, FieldAppearanceSeeds, or "" for the graph as a whole
	Graph int    // which graph of a list, -1 when there is one or it is not known
	Index int    // the object or relationship at fault, -1 for none or in text
	Err   error  // the problem in words
}

func (e *GraphError) Error() string {
	var at []string
	if e.Graph >= 0 {
		at = append(at, "graph "+strconv.Itoa(e.Graph))
	}
	if e.Index >= 0 {
		at = append(at, e.itemName()+" "+strconv.Itoa(e.Index))
	}
	if len(at) == 0 {
		return e.Err.Error()
	}
	return strings.Join(at, ", ") + ": " + e.Err.Error()
}

func (e *GraphError) Unwrap() error { return e.Err }

// itemName is what Index counts in Field.
func (e *GraphError) itemName() string {
	switch e.Field {
	case FieldObjects:
		return "object"
	case FieldRelationships:
		return "relationship"
	case FieldBoxes:
		return "box"
	case FieldAppearanceSeeds:
		return "appearance seed"
	}
	return "item"
}

// graphErr makes a GraphError about one graph (Graph -1).
func graphErr(kind ErrorKind, field string, index int, format string, args ...any) *GraphError {
	return &GraphError{Kind: kind, Field: field, Graph: -1, Index: index, Err: fmt.Errorf(format, args...)}
}

// InGraph returns a copy of e placed in graph i of a list, or in no
// list for i = -1 (the one graph a page or a call holds).
func (e *GraphError) InGraph(i int) *GraphError {
	placed := *e
	placed.Graph = i
	return &placed
}

// inGraph places err, when it is a GraphError, in graph i of a list.
func inGraph(err error, i int) error {
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge.InGraph(i)
	}
	return err
}

// GraphJSONError describes in a graph's words (no Go type names) an error
// of encoding/json decoding a scene graph, alone or as the field of a
// larger message (the field path then ends in "objects" or
// "relationships").
func GraphJSONError(err error) *GraphError {
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge // from Relationship.UnmarshalJSON: already in words
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return graphErr(ErrSyntax, "", -1, "%v", err)
	case errors.As(err, &te):
		field, msg := describeTypeError(te)
		return graphErr(ErrShape, field, -1, "%s", msg)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return graphErr(ErrShape, "", -1, "unknown field %s; a graph has only \"objects\" and \"relationships\"", name)
	}
	if errors.Is(err, errExtraData) {
		return graphErr(ErrSyntax, "", -1, "%v", err)
	}
	return graphErr(ErrSyntax, "", -1, "not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonFileError is GraphJSONError with the line and column in data, when
// json knows them.
func jsonFileError(data []byte, err error) *GraphError {
	ge := GraphJSONError(err)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		ge.Err = atOffset(data, se.Offset, ge.Err)
	case errors.As(err, &te):
		ge.Err = atOffset(data, te.Offset, ge.Err)
	}
	return ge
}

var errExtraData = errors.New("extra data after the JSON value; a file holds one graph or one list of graphs")

// describeTypeError says in a graph's terms what a JSON value of the wrong
// type should have been.
func describeTypeError(te *json.UnmarshalTypeError) (field, msg string) {
	found := jsonValueName(te.Value)
	last := te.Field[strings.LastIndexByte(te.Field, '.')+1:]
	switch {
	case last == FieldObjects && te.Type.Kind() == reflect.Slice:
		return FieldObjects, fmt.Sprintf("\"objects\" must be a list of words, like [\"sky\", \"grass\"]; found %s", found)
	case last == FieldObjects:
		return FieldObjects, fmt.Sprintf("each object must be a word in quotes, like \"sheep\"; found %s", found)
	case last == FieldRelationships:
		return FieldRelationships, fmt.Sprintf("\"relationships\" must be a list of [subject index, \"predicate\", object index]; found %s", found)
	case last == FieldSeed:
		return FieldSeed, fmt.Sprintf("\"seed\" must be a whole number from 0 to %d; found %s", uint64(1<<64-1), found)
	case last == FieldBoxes:
		return FieldBoxes, fmt.Sprintf("\"boxes\" must be a list of [x0, y0, x1, y1] or null, one per object; found %s", found)
	case last == FieldAppearanceSeeds:
		return FieldAppearanceSeeds, fmt.Sprintf("\"appearance_seeds\" must be a list of whole numbers or null, one per object; found %s", found)
	}
	return "", fmt.Sprintf("a scene graph must be a JSON object {\"objects\": [...], \"relationships\": [...]}; found %s", found)
}

// jsonValueName names a JSON value type as json's Value field spells it.
func jsonValueName(v string) string {
	switch v {
	case "string", "number":
		return "a " + v
	case "object", "array":
		return "an " + v
	case "bool":
		return "true or false"
	}
	if strings.HasPrefix(v, "number ") {
		return "the number" + strings.TrimPrefix(v, "number")
	}
	return v
}

// atOffset prefixes err with the line and column of byte offset off.
func atOffset(data []byte, off int64, err error) error {
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Errorf("line %d, column %d: %v", line, col, err)
}
