// Bootstrap: start the Go app, and register the service worker once the
// engine has its model.
"use strict";
// The engine worker starts now, beside the page's own start, and loads the
// shipped model at once (the "preload:" name, wasm/worker.go); the page's
// Go code adopts it with the events it missed (ui/client.go).
// A page opened with ?model=URL loads that model instead (ui/app.go).
{
  const preload = new URLSearchParams(location.search).has("model") ? "" : "preload:model.safetensors";
  const worker = new Worker("worker.js", { name: preload });
  const missed = [];
  const keep = (ev) => missed.push(ev);
  worker.addEventListener("message", keep);
  worker.addEventListener("error", keep);
  globalThis.sg2imEngine = {
    worker, missed,
    stop() { worker.removeEventListener("message", keep); worker.removeEventListener("error", keep); },
  };
  // The service worker's install fetches the app's files: after the page
  // has them, those requests revalidate (no body), so nothing comes twice.
  const register = (ev) => {
    const kind = ev.type === "message" ? JSON.parse(ev.data.json).kind : "error";
    if (kind !== "loaded" && kind !== "error") return;
    worker.removeEventListener("message", register);
    worker.removeEventListener("error", register);
    if ("serviceWorker" in navigator) {
      // ?mt: it keeps the engine's shared-memory variants (web/sw.js).
      const sw = self.crossOriginIsolated ? "sw.js?mt" : "sw.js";
      navigator.serviceWorker.register(sw).catch((e) => console.warn("no offline support:", e));
    }
  };
  worker.addEventListener("message", register);
  worker.addEventListener("error", register);
}
(async () => {
  try {
    await sg2imStart(document.baseURI);
  } catch (e) {
    const app = document.getElementById("app");
    app.textContent = "sg2im could not start: " + e + ". Reload the page; if it persists, your browser may lack WebAssembly.";
  }
})();
