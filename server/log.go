package server

import (
	"log"
	"net/http"
	"time"
)

// logRequests wraps h to write one line per request to l:
// method, quoted path, status, body bytes, content encoding, duration.
func logRequests(h http.Handler, l *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		lw := &logWriter{ResponseWriter: w}
		h.ServeHTTP(lw, r)
		if lw.status == 0 {
			lw.status = http.StatusOK
		}
		if r.Method == http.MethodHead {
			lw.bytes = 0 // the server drops HEAD bodies (http.Error writes one)
		}
		enc := lw.encoding
		if enc == "" {
			enc = "-"
		}
		// %q: the decoded path may hold newlines that would forge lines.
		l.Printf("%s %q %d %d %s %v", r.Method, r.URL.Path, lw.status, lw.bytes, enc,
			time.Since(start).Round(time.Microsecond))
	})
}

// logWriter records what a handler sends.
type logWriter struct {
	http.ResponseWriter
	status   int
	bytes    int64
	encoding string
}

func (w *logWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.encoding = w.Header().Get("Content-Encoding")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
