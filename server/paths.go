package server

import (
	"errors"
	"io/fs"
	"strings"
)

var errBadPath = errors.New("bad request path")

// fileName maps a decoded URL path to a name in the file system: "/" is
// index.html and "" means a directory (404). Anything fs.ValidPath rejects
// (".." and "." elements, empty elements), backslashes and NULs are errors,
// so no request reaches outside the file system whatever it implements.
// Hidden names (an element starting with '.', such as .env or .git/config)
// are never served: they are "" too.
func fileName(urlPath string) (string, error) {
	if !strings.HasPrefix(urlPath, "/") || strings.ContainsAny(urlPath, "\\\x00") {
		return "", errBadPath
	}
	if urlPath == "/" {
		return indexName, nil
	}
	name := urlPath[1:]
	if strings.HasSuffix(name, "/") {
		if !fs.ValidPath(strings.TrimSuffix(name, "/")) {
			return "", errBadPath
		}
		return "", nil
	}
	if !fs.ValidPath(name) {
		return "", errBadPath
	}
	if strings.HasPrefix(name, ".") || strings.Contains(name, "/.") {
		return "", nil
	}
	return name, nil
}
