// Offline support: the app shell, the engine and the shipped model are
// cached on install; requests go to the network first (so updates show up)
// and fall back to the cache when the server cannot be reached.
"use strict";
const CACHE = "sg2im-v2";
const SHELL = ["./", "index.html", "style.css", "main.js", "worker.js", "wasm_exec.js", "load.js", "app.wasm", "kernel.wasm",
  "model.safetensors", "manifest.webmanifest", "icon.svg",
  "sg2im-widget.js", "embed.html", "embed.css"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const req = e.request;
  const url = new URL(req.url);
  // blob: URLs (downloads the page makes) share the origin but are the page's own.
  if (req.method !== "GET" || url.origin !== self.location.origin || !url.protocol.startsWith("http")) return;
  e.respondWith(fetch(req).then((resp) => {
    if (resp.ok) {
      const copy = resp.clone();
      caches.open(CACHE).then((c) => c.put(req, copy));
    }
    return resp;
  }).catch(() => caches.match(req, { ignoreSearch: true }).then((hit) => hit || Response.error())));
});
