// Loaded by tools/wasmexec/exec (node --require) before Go's
// wasm_exec_node.js: gives app and test binaries the imports of module
// sg2im from web/kernel.wasm, as web/load.js does in the browser.
// SG2IM_SIMD=0 leaves the kernel out (the portable kernels run). Where
// Node has relaxed SIMD (node --experimental-wasm-relaxed-simd, or V8 from
// 11.4) the kernel is kernel-fma.wasm, as in browsers that have it.
// SG2IM_THREADS=n (n > 1) runs the threaded engine: the exec script has
// rewritten the binary for a shared memory (tools/wasmshared), and n-1
// helper threads run web/kernel-mt.wasm on it, as the browser's helper
// workers do.
"use strict";
const fs = require("fs");
const path = require("path");
const { Worker } = require("worker_threads");
const web = path.join(__dirname, "..", "..", "web");
require(path.join(web, "load.js"));
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async function (source, imports) {
  if (!imports || !imports.gojs || imports.sg2im) {
    return instantiate.apply(this, arguments);
  }
  const kernel = globalThis.sg2imImports();
  imports.sg2im = kernel.imports;
  const threads = Number(process.env.SG2IM_THREADS || "1");
  const mod = await WebAssembly.compile(source);
  const custom = WebAssembly.Module.customSections(mod, "sg2im.mem");
  let memory = null;
  if (custom.length > 0) {
    const pages = new DataView(custom[0]).getUint32(0, true);
    memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true });
    imports.sg2im.mem = memory;
    globalThis.sg2imSharedGlue();
  }
  const instance = await instantiate.call(this, mod, imports);
  if (process.env.SG2IM_SIMD !== "0") {
    const bytes = fs.readFileSync(path.join(web, globalThis.sg2imKernelName(memory !== null)));
    const kmod = await WebAssembly.compile(bytes);
    kernel.set((await instantiate.call(this, kmod, { env: { mem: instance.exports.mem } })).exports, instance.exports.mem);
    globalThis.sg2imSIMD = true;
    if (memory && threads > 1) {
      const src = `const { parentPort } = require("worker_threads");
parentPort.once("message", (d) => (${globalThis.sg2imHelper})(d, (m) => parentPort.postMessage(m)));`;
      const box = await globalThis.sg2imHelpers(kmod, memory, threads - 1, () => {
        const worker = new Worker(src, { eval: true });
        worker.unref(); // the helpers wait forever; the test's end ends them
        return { worker, on: (f) => { worker.once("message", f); worker.once("error", f); } };
      });
      kernel.helpers(box, threads - 1);
    }
  }
  return { instance, module: mod };
};
