// The engine worker: the same Go binary as the page, in worker mode.
// worker.js?threads=n caps the engine's threads (the benchmark page's
// single-thread row); by default it uses one per core when the page is
// cross-origin isolated (web/load.js).
"use strict";
importScripts("wasm_exec.js", "load.js");
(async () => {
  try {
    const threads = Number(new URL(self.location.href).searchParams.get("threads")) || 0;
    await sg2imStart(new URL("./", self.location.href).href, { threads });
  } catch (e) {
    postMessage({ json: JSON.stringify({ v: 1, id: 0, kind: "error", error: "the engine could not start: " + e }) });
  }
})();
