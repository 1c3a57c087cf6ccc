// Loaded by tools/wasmexec/exec (node --require) before Go's
// wasm_exec_node.js: gives app and test binaries the imports of module
// sg2im from web/kernel.wasm, as web/load.js does in the browser.
// SG2IM_SIMD=0 leaves the kernel out (the portable kernels run).
"use strict";
const fs = require("fs");
const path = require("path");
const web = path.join(__dirname, "..", "..", "web");
require(path.join(web, "load.js"));
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async function (source, imports) {
  if (!imports || !imports.gojs || imports.sg2im) {
    return instantiate.apply(this, arguments);
  }
  const kernel = globalThis.sg2imImports();
  imports.sg2im = kernel.imports;
  const result = await instantiate.call(this, source, imports);
  if (process.env.SG2IM_SIMD !== "0") {
    const bytes = fs.readFileSync(path.join(web, "kernel.wasm"));
    kernel.set((await instantiate.call(this, bytes, { env: { mem: result.instance.exports.mem } })).instance.exports);
    globalThis.sg2imSIMD = true;
  }
  return result;
};
