package server

import "net/http"

// ContentSecurityPolicy is sent with every response, so it also governs
// workers, whose policy comes from their script's response. The app is Go
// compiled to wasm and started by wasm_exec.js in the page or a worker:
// 'wasm-unsafe-eval' lets WebAssembly compile without allowing JS eval.
// The widget starts its worker from a blob: URL (see sg2im-widget.js).
// Images are drawn on canvases and exported as data: or blob: URLs. Nothing
// is loaded from other origins, and the app may not be framed.
const ContentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self' 'wasm-unsafe-eval'; " +
	"worker-src 'self' blob:; " +
	"style-src 'self'; " +
	"img-src 'self' data: blob:; " +
	"connect-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"frame-ancestors 'none'"

// setSecurityHeaders sets the headers every response carries. COOP and
// COEP make the app's pages cross-origin isolated, so that the engine can
// share its WebAssembly memory with helper workers and draw on several
// threads (web/load.js); COEP is also required on a worker script created
// by such a page.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Embedder-Policy", "require-corp")
}

// setSharedHeaders lets other sites' pages use a non-HTML resource: the
// widget script and the wasm and model it fetches. CORP admits it into
// pages that are themselves cross-origin isolated; CORS lets fetch() read
// it. Credentials are never needed, so "*" is enough.
func setSharedHeaders(h http.Header) {
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Access-Control-Allow-Origin", "*")
}
