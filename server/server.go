// Package server serves the built sg2im browser app from a read-only file
// system: precompressed variants, content-hash ETags and the security
// headers the app and its embeddable widget need.
package server

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Options configures New.
type Options struct {
	// Logger receives one line per request; nil logs nothing.
	Logger *log.Logger
}

const indexName = "index.html"

// notBuilt is the body of the 503 answered for / when index.html is absent.
const notBuilt = "the app is not built: run `make app` (or `make run`)\n"

// errRead answers a file that exists but cannot be read; the details stay
// on the server.
const errRead = "cannot read file"

type handler struct {
	fsys  fs.FS
	etags *etagCache
}

// New returns a handler serving the files of fsys, with index.html at /.
// fsys is treated as immutable apart from whole-file rewrites (os.DirFS
// during development), which are noticed through size and mtime.
//
// A file f.br or f.gz next to f is a variant of f, chosen by
// Accept-Encoding; when f exists, /f.br and /f.gz are 404 so that a variant
// is never served as a resource of its own. A .gz or .br without a base file
// is an ordinary file.
func New(fsys fs.FS, opt Options) http.Handler {
	h := &handler{fsys: fsys, etags: newETagCache(fsys)}
	if opt.Logger == nil {
		return h
	}
	return logRequests(h, opt.Logger)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	setSecurityHeaders(hdr)
	// Always revalidate: ETags make that cheap, and the service worker
	// handles offline use.
	hdr.Set("Cache-Control", "no-cache")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, err := fileName(r.URL.Path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if name == "" {
		http.NotFound(w, r)
		return
	}
	h.serveFile(w, r, name)
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	info, err := fs.Stat(h.fsys, name)
	switch {
	case errors.Is(err, fs.ErrNotExist) && name == indexName:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, notBuilt)
		return
	case errors.Is(err, fs.ErrNotExist):
		http.NotFound(w, r)
		return
	case err != nil:
		http.Error(w, errRead, http.StatusInternalServerError)
		return
	case !info.Mode().IsRegular(), h.isVariant(name):
		http.NotFound(w, r)
		return
	}

	vs := h.variants(name, info)
	v := negotiate(r.Header.Get("Accept-Encoding"), vs)
	tag, err := h.etags.get(v.name, v.info)
	if err != nil {
		http.Error(w, errRead, http.StatusInternalServerError)
		return
	}
	f, err := h.fsys.Open(v.name)
	if err != nil {
		http.Error(w, errRead, http.StatusInternalServerError)
		return
	}
	defer f.Close()
	content, ok := f.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(f)
		if err != nil {
			http.Error(w, errRead, http.StatusInternalServerError)
			return
		}
		content = bytes.NewReader(b)
	}

	hdr := w.Header()
	ctype := contentType(name)
	hdr.Set("Content-Type", ctype)
	hdr.Set("ETag", tag)
	if len(vs) > 1 {
		hdr.Set("Vary", "Accept-Encoding")
	}
	if v.encoding != "" {
		hdr.Set("Content-Encoding", v.encoding)
	}
	if !strings.HasPrefix(ctype, "text/html") {
		setSharedHeaders(hdr)
	}
	if v.encoding != "" {
		w = &lengthWriter{w, v.info.Size()}
	}
	// The zero time leaves the ETag as the only validator. For a variant,
	// ranges count bytes of the encoded body, as RFC 9110 defines them.
	http.ServeContent(w, r, name, time.Time{}, content)
}

// lengthWriter adds Content-Length to a full 200 response. ServeContent
// leaves it out whenever Content-Encoding is set, for wrappers that
// compress on the fly; our variants are stored whole, and browsers need
// the length to show progress while the wasm and the model download.
type lengthWriter struct {
	http.ResponseWriter
	size int64
}

func (w *lengthWriter) WriteHeader(code int) {
	if code == http.StatusOK && w.Header().Get("Content-Length") == "" {
		w.Header().Set("Content-Length", strconv.FormatInt(w.size, 10))
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *lengthWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
