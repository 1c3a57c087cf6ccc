package server_test

import (
	"fmt"
	"net/http/httptest"
	"testing/fstest"

	"github.com/sg2im-go/sg2im/server"
)

func ExampleNew() {
	app := fstest.MapFS{
		"index.html":  {Data: []byte("<!doctype html>")},
		"app.wasm":    {Data: []byte("\x00asm...")},
		"app.wasm.br": {Data: []byte("brotli bytes")},
	}
	h := server.New(app, server.Options{})

	r := httptest.NewRequest("GET", "/app.wasm", nil)
	r.Header.Set("Accept-Encoding", "gzip, br")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Content-Type"), w.Header().Get("Content-Encoding"))
	// Output: 200 application/wasm br
}
