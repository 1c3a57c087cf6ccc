// The engine worker: the same Go binary as the page, in worker mode.
"use strict";
importScripts("wasm_exec.js", "load.js");
(async () => {
  try {
    await sg2imStart(self.location.href);
  } catch (e) {
    postMessage({ json: JSON.stringify({ v: 1, id: 0, kind: "error", error: "the engine could not start: " + e }) });
  }
})();
