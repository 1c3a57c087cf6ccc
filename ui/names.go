package ui

import (
	"regexp"
	"strconv"
	"strings"
)

// refsOf names objects as the one-line syntax does: repeats get #2, #3, ...
func refsOf(objects []string) []string {
	refs := make([]string, len(objects))
	seen := map[string]int{}
	for i, name := range objects {
		seen[name]++
		refs[i] = name
		if n := seen[name]; n > 1 {
			refs[i] = name + "#" + strconv.Itoa(n)
		}
	}
	return refs
}

// nameOf strips a #n tag from what the user typed in an object's field.
func nameOf(ref string) string {
	ref = strings.TrimSpace(ref)
	if h := strings.LastIndexByte(ref, '#'); h > 0 {
		if n, err := strconv.Atoi(ref[h+1:]); err == nil && n >= 1 {
			return strings.TrimSpace(ref[:h])
		}
	}
	return ref
}

// cliHint matches advice meant for the command line.
var cliHint = regexp.MustCompile(`\s*\((?:run|use) ` + "`?" + `sg2im [^)]*\)`)

// forBrowser rewrites an engine message for the page: no command-line
// advice, no Go type names.
func forBrowser(msg string) string {
	msg = cliHint.ReplaceAllString(msg, " (the Words panel lists those it knows)")
	msg = strings.ReplaceAll(msg, "Go struct field SceneGraph.", "")
	msg = strings.ReplaceAll(msg, "Go value of type ", "")
	return msg
}
