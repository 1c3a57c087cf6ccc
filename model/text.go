package model

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ParseText reads the one-line scene syntax: clauses separated by ";",
// "," or newlines, each "subject predicate object" or a lone object:
//
//	sheep standing on grass; sky above grass; tree
//
// Predicates are recognised from preds (longest first). A name used twice
// is one object; "sheep#2" is a second sheep.
func ParseText(text string, preds []string) (SceneGraph, error) {
	byLen := append([]string(nil), preds...)
	sort.SliceStable(byLen, func(i, j int) bool { return len(byLen[i]) > len(byLen[j]) })
	g := SceneGraph{Objects: []string{}, Relationships: []Relationship{}}
	index := map[string]int{}
	object := func(ref string) (int, error) {
		ref = strings.Join(strings.Fields(ref), " ")
		if ref == "" {
			return 0, fmt.Errorf("missing object name")
		}
		if i, ok := index[ref]; ok {
			return i, nil
		}
		name := ref
		if h := strings.LastIndexByte(ref, '#'); h >= 0 {
			if n, err := strconv.Atoi(ref[h+1:]); err == nil && n >= 1 {
				name = strings.TrimSpace(ref[:h])
			}
		}
		if name == "" {
			return 0, fmt.Errorf("%q has no object name before '#'", ref)
		}
		if strings.ContainsRune(name, '#') {
			return 0, fmt.Errorf("%q: '#' may only start an instance number, as in sheep#2", ref)
		}
		if len(g.Objects) >= MaxObjectsPerGraph {
			return 0, errTooManyObjects
		}
		index[ref] = len(g.Objects)
		g.Objects = append(g.Objects, name)
		return index[ref], nil
	}
	clauses := strings.FieldsFunc(text, func(r rune) bool { return r == ';' || r == ',' || r == '\n' })
	for ci, clause := range clauses {
		words := strings.Fields(clause)
		if len(words) == 0 {
			continue
		}
		s, p, o, ok := splitClause(words, byLen)
		if !ok {
			if _, err := object(strings.Join(words, " ")); err != nil {
				return SceneGraph{}, textErr(clauseKind(err), "clause %d %q: %v", ci+1, strings.TrimSpace(clause), err)
			}
			continue
		}
		si, err := object(s)
		if err == nil {
			var oi int
			if oi, err = object(o); err == nil {
				if len(g.Relationships) >= MaxTriplesPerGraph {
					return SceneGraph{}, textErr(ErrTooMany, "more than %d relationships", MaxTriplesPerGraph)
				}
				g.Relationships = append(g.Relationships, Relationship{si, p, oi})
				continue
			}
		}
		return SceneGraph{}, textErr(clauseKind(err), "clause %d %q: %v (write \"subject predicate object\", e.g. \"sheep %s grass\")",
			ci+1, strings.TrimSpace(clause), err, examplePred(preds))
	}
	if len(g.Objects) == 0 {
		return SceneGraph{}, textErr(ErrEmpty, "no objects; write e.g. \"sheep %s grass\"", examplePred(preds))
	}
	return g, nil
}

var errTooManyObjects = fmt.Errorf("more than %d objects", MaxObjectsPerGraph)

// clauseKind is the kind of a clause's error: too many objects, or syntax.
func clauseKind(err error) ErrorKind {
	if err == errTooManyObjects {
		return ErrTooMany
	}
	return ErrSyntax
}

// textErr makes a GraphError about the one-line text.
func textErr(kind ErrorKind, format string, args ...any) *GraphError {
	return graphErr(kind, FieldText, -1, format, args...)
}

// ParseText reads the one-line syntax with the vocabulary's predicates and
// checks every object against it. A clause whose predicate the vocabulary
// lacks reads as one long object name ("sheep near grass"); when known
// objects stand on both sides of the unknown words, it is reported as an
// unknown predicate, which it is.
func (v *Vocab) ParseText(text string) (SceneGraph, error) {
	g, err := ParseText(text, v.Predicates())
	if err != nil {
		return g, err
	}
	for _, name := range g.Objects {
		_, err := v.ObjectID(name)
		if err == nil {
			continue
		}
		if subj, pred, obj, ok := v.splitUnknownPredicate(name); ok {
			_, err = v.PredID(pred)
			return SceneGraph{}, textErr(ErrUnknownWord, "%q: %w (a clause is \"subject predicate object\", as in \"%s %s %s\")",
				clip([]byte(name)), err, subj, examplePred(v.Predicates()), obj)
		}
		return SceneGraph{}, textErr(ErrUnknownWord, "%w", err)
	}
	return g, nil
}

// maxNameWords bounds the words of an object name splitUnknownPredicate
// tries, so that a pasted essay costs no more than a sentence.
const maxNameWords = 4

// splitUnknownPredicate finds words between two known objects in name.
func (v *Vocab) splitUnknownPredicate(name string) (subj, pred, obj string, ok bool) {
	words := strings.Fields(name)
	for i := 1; i < len(words)-1 && i <= maxNameWords; i++ {
		subj = strings.Join(words[:i], " ")
		if _, known := v.ObjectNameToIdx[subj]; !known {
			continue
		}
		for j := len(words) - 1; j > i && j >= len(words)-maxNameWords; j-- {
			obj = strings.Join(words[j:], " ")
			if _, known := v.ObjectNameToIdx[obj]; known {
				return subj, strings.Join(words[i:j], " "), obj, true
			}
		}
	}
	return "", "", "", false
}

func examplePred(preds []string) string {
	for _, p := range preds {
		if p != InImagePred {
			return p
		}
	}
	return "on"
}

// splitClause finds the first predicate phrase with words on both sides.
func splitClause(words, preds []string) (s, p, o string, ok bool) {
	for i := 1; i < len(words)-1; i++ {
		for _, pred := range preds {
			pw := strings.Fields(pred)
			if len(pw) == 0 || i+len(pw) >= len(words) {
				continue
			}
			match := true
			for k, w := range pw {
				if !strings.EqualFold(words[i+k], w) {
					match = false
					break
				}
			}
			if match {
				return strings.Join(words[:i], " "), pred, strings.Join(words[i+len(pw):], " "), true
			}
		}
	}
	return "", "", "", false
}

// FormatText writes g in the one-line syntax: its relationships, then the
// objects that are in none; repeated names get "#2", "#3", ...
func FormatText(g SceneGraph) string {
	refs := make([]string, len(g.Objects))
	seen := map[string]int{}
	for i, name := range g.Objects {
		seen[name]++
		refs[i] = name
		if n := seen[name]; n > 1 {
			refs[i] = name + "#" + strconv.Itoa(n)
		}
	}
	used := make([]bool, len(g.Objects))
	var clauses []string
	for _, r := range g.Relationships {
		if r.Subject < 0 || r.Subject >= len(refs) || r.Object < 0 || r.Object >= len(refs) {
			continue
		}
		used[r.Subject], used[r.Object] = true, true
		clauses = append(clauses, refs[r.Subject]+" "+r.Predicate+" "+refs[r.Object])
	}
	for i, ref := range refs {
		if !used[i] {
			clauses = append(clauses, ref)
		}
	}
	return strings.Join(clauses, "; ")
}
