// The engine worker: the same Go binary as the page, in worker mode.
"use strict";
importScripts("wasm_exec.js");
(async () => {
  try {
    const go = new Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch("app.wasm"), go.importObject);
    go.run(instance);
  } catch (e) {
    postMessage({ json: JSON.stringify({ v: 1, id: 0, kind: "error", error: "the engine could not start: " + e }) });
  }
})();
