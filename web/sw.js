// Offline support. The service worker keeps the app (shell, engine,
// shipped model, widget files) and nothing else of its own accord: other
// models are kept only when the user asks, by the page, in KEPT.
//
// The page registers it once its own start has fetched everything
// (web/main.js, sg2im-widget.js), so the install's requests revalidate
// those files (the server answers 304, no body): a first visit transfers
// each file once. Requests go to the network first (so updates show up)
// and fall back to the caches when the server cannot be reached.
"use strict";
const CACHE = "sg2im-v4";
const KEPT = "sg2im-kept"; // models the user asked to keep; see ui/storage.go
// Pages that are cross-origin isolated load the engine's shared-memory
// variants (web/load.js) and register this worker as sw.js?mt: it keeps
// those, so that no visit fetches both.
const MT = new URL(self.location.href).searchParams.has("mt") ? "-mt" : "";
importScripts("load.js"); // sg2imKernelName: the kernel the page loads here
const SHELL = ["./", "style.css", "main.js", "worker.js", "wasm_exec.js", "load.js", `app${MT}.wasm`, sg2imKernelName(MT !== ""),
  "model.safetensors", "manifest.webmanifest", "icon.svg"];
// What a response passing through may add to CACHE: the shell, either
// variant of the engine, and the widget's files when a widget page on this
// origin fetches them.
const KEEP = new Set([...SHELL, "app.wasm", "app-mt.wasm", "kernel.wasm", "kernel-mt.wasm", "kernel-fma.wasm", "kernel-fma-mt.wasm",
  "index.html", "sg2im-widget.js", "embed.html", "embed.css"]
  .map((p) => new URL(p, self.registration.scope).href));

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE && k !== KEPT).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const req = e.request;
  const url = new URL(req.url);
  // blob: URLs (downloads the page makes) share the origin but are the page's own.
  if (req.method !== "GET" || url.origin !== self.location.origin || !url.protocol.startsWith("http")) return;
  url.search = "";
  const keep = KEEP.has(url.href);
  e.respondWith(fetch(req).then((resp) => {
    if (keep && resp.ok) {
      const copy = resp.clone();
      caches.open(CACHE).then((c) => c.put(url.href, copy));
    }
    return resp;
  }).catch(() => offline(req)));
});

// offline answers from the caches; a page of the app's that is not cached
// gets the app.
async function offline(req) {
  const hit = await caches.match(req, { ignoreSearch: true });
  if (hit) return hit;
  if (req.mode === "navigate") {
    const app = await caches.match(new URL("./", self.registration.scope).href);
    if (app) return app;
  }
  return Response.error();
}
