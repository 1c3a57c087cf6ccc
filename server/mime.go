package server

import "path"

// contentTypes are set explicitly rather than taken from the mime package,
// whose table depends on the host (/etc/mime.types) and lacks .wasm on some.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".wasm":        "application/wasm", // required by WebAssembly.instantiateStreaming
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".safetensors": "application/octet-stream",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
}

// contentType returns the media type for name, application/octet-stream
// for unknown extensions (never sniffed: responses carry nosniff).
func contentType(name string) string {
	if t, ok := contentTypes[path.Ext(name)]; ok {
		return t
	}
	return "application/octet-stream"
}
