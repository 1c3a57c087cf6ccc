// Starts app.wasm (the page or the engine: the same Go binary) with
// kernel.wasm, its SIMD matrix tiles and Winograd transforms, instantiated
// on the Go module's memory (see nn/gemm_wasm.go). Without WebAssembly
// SIMD the Go binary runs its portable kernels.
//
// Where the browser has relaxed SIMD the kernel is kernel-fma.wasm (fused
// multiply-adds). When the page is cross-origin isolated, app-mt.wasm and
// kernel-mt.wasm (or kernel-fma-mt.wasm) are used instead: the same code on a shared memory (tools/wasmshared),
// so that the engine worker can start helper workers that run the
// kernel's command lists beside it (nn/par_wasm.go), one per core, up to
// eight threads in all. Elsewhere (a widget on another site) the engine
// runs on one thread. Either way one app and one kernel are downloaded.
"use strict";

// sg2imImports returns app.wasm's imports of module sg2im, calling into
// whatever exports set() installs; helpers(box, n) says that n helper
// workers (sg2imHelpers) wait for the command block's address in box.
globalThis.sg2imImports = function () {
  let k = null;
  let mem = null;
  let pool = null;
  return {
    set(exports, memory) { k = exports; mem = memory; },
    helpers(box, n) { pool = { box, n }; },
    imports: {
      tile: (kc, a, b, c, ldc, alpha, beta) => k.tile(kc, a, b, c, ldc, alpha, beta),
      tileRows: (kc, a, x, rowOff, c, ldc, alpha, beta) => k.tileRows(kc, a, x, rowOff, c, ldc, alpha, beta),
      tileA: (kc, a, lda, b, c, ldc, alpha, beta) => k.tileA(kc, a, lda, b, c, ldc, alpha, beta),
      winoIn: (rows, rowLen, oOff, dst, xi, srcStep, dstStep, count) =>
        k.winoIn(rows, rowLen, oOff, dst, xi, srcStep, dstStep, count),
      winoOut: (m, xi, out, rowLen, groups, scale, shift, slope, act) =>
        k.winoOut(m, xi, out, rowLen, groups, scale, shift, slope, act),
      // threads hands the helpers the command block's address and says
      // how many threads there are.
      threads: (cmd) => {
        if (!pool || pool.n < 1) return 1;
        Atomics.store(pool.box, 1, cmd);
        Atomics.store(pool.box, 0, 1);
        Atomics.notify(pool.box, 0);
        return 1 + pool.n;
      },
      // run starts a command on t threads (word 0: generation << 8 | t;
      // the helpers wait on it) and runs this thread's share.
      run: (cmd, t) => {
        const h = new Int32Array(mem.buffer, cmd, 8); // a grown memory has a new buffer
        const w = Atomics.load(h, 0);
        if (t > 1) {
          Atomics.store(h, 0, ((((w >>> 8) + 1) & 0xffffff) << 8) | t);
          Atomics.notify(h, 0);
        } else if ((w & 255) !== 1) {
          Atomics.store(h, 0, (w & ~255) | 1);
        }
        k.run(cmd, 0);
      },
    },
  };
};

// sg2imHelper is a helper worker's body, sent to it as source, with post
// its postMessage: it instantiates the kernel on the engine's shared
// memory, says it is up, waits for the command block's address (box),
// counts itself in (word 4 of the block: its index), then runs each
// command whose thread count includes it. It waits in Atomics.wait
// throughout, which needs nothing of the engine's thread: a worker
// started while the engine computes would not start until it yields.
globalThis.sg2imHelper = function (data, post) {
  const { module, memory, box } = data;
  const k = new WebAssembly.Instance(module, { env: { mem: memory } }).exports;
  post("up");
  Atomics.wait(box, 0, 0);
  const cmd = Atomics.load(box, 1);
  const h = new Int32Array(memory.buffer, cmd, 8);
  let seen = Atomics.load(h, 0); // commands before it came do not count it
  const index = Atomics.add(h, 4, 1) + 1;
  for (;;) {
    Atomics.wait(h, 0, seen);
    const w = Atomics.load(h, 0);
    if (w === seen) continue;
    seen = w;
    if (index < (w & 255)) k.run(cmd, index);
  }
};

// sg2imHelpers starts n helper workers (spawn makes one, with an on(f)
// for its messages) on the kernel module and the shared memory, and
// resolves to their mailbox once they are up (or after a second: a
// late one counts itself in when it comes).
globalThis.sg2imHelpers = async function (module, memory, n, spawn) {
  const box = new Int32Array(new SharedArrayBuffer(8));
  const ups = [];
  for (let i = 0; i < n; i++) {
    const w = spawn();
    ups.push(new Promise((resolve) => w.on(resolve)));
    w.worker.postMessage({ module, memory, box });
  }
  let timer;
  await Promise.race([Promise.all(ups), new Promise((resolve) => { timer = setTimeout(resolve, 1000); })]);
  clearTimeout(timer);
  return box;
};

// sg2imSharedGlue lets wasm_exec.js work on a shared memory: TextDecoder
// and crypto.getRandomValues refuse views of a SharedArrayBuffer, so they
// get a copy (GOROOT's file is left as it is).
globalThis.sg2imSharedGlue = function () {
  if (globalThis.sg2imSharedGlue.done) return;
  globalThis.sg2imSharedGlue.done = true;
  const isShared = (v) => v && typeof SharedArrayBuffer === "function" && v.buffer instanceof SharedArrayBuffer;
  const decode = TextDecoder.prototype.decode;
  TextDecoder.prototype.decode = function (v, opts) {
    if (isShared(v)) v = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
    return decode.call(this, v, opts);
  };
  const random = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
  globalThis.crypto.getRandomValues = (v) => {
    if (!isShared(v)) return random(v);
    const t = new Uint8Array(v.byteLength);
    random(t);
    new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(t);
    return v;
  };
};

// sg2imRelaxedSIMD reports whether the browser has relaxed SIMD (a module
// using f32x4.relaxed_madd validates): then the kernel's tiles multiply
// and add in one instruction (kernel-fma*.wasm, tools/wasmkernel).
globalThis.sg2imRelaxedSIMD = function () {
  const body = [0, ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array(16).fill(0)]), 0xfd, 0x85, 0x02, 0x0b];
  const probe = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0,
    10, body.length + 2, 1, body.length, ...body]);
  try {
    return WebAssembly.validate(probe);
  } catch (e) {
    return false;
  }
};

// sg2imKernelName is the kernel file for a memory (shared or not).
globalThis.sg2imKernelName = (shared) => `kernel${sg2imRelaxedSIMD() ? "-fma" : ""}${shared ? "-mt" : ""}.wasm`;

// sg2imMaxThreads is the most threads the engine uses.
const sg2imMaxThreads = 8;

// sg2imStart fetches app.wasm and kernel.wasm (or their -mt variants) from
// base (a URL ending in "/") and runs the Go program. opts.threads caps the
// engine's threads (default: one per core, up to eight); helpers start
// only in a worker (the page's thread may not wait) on a shared memory.
globalThis.sg2imStart = async function (base, opts = {}) {
  const go = new Go();
  const kernel = sg2imImports();
  go.importObject.sg2im = kernel.imports;
  // A browser that cannot reserve a shared memory of 4 GiB (a 32-bit one)
  // runs the single-thread engine.
  let shared = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === "function";
  let memory = null;
  if (shared) {
    try {
      memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    } catch (e) {
      console.warn("sg2im: no shared memory, one thread:", e);
      shared = false;
    }
  }
  const compiled = WebAssembly.compileStreaming(fetch(new URL(sg2imKernelName(shared), base))).catch(() => null);
  const inWorker = typeof WorkerGlobalScope !== "undefined";
  const cores = Math.min(navigator.hardwareConcurrency || 1, sg2imMaxThreads);
  const threads = Math.max(1, Math.min(opts.threads || cores, sg2imMaxThreads));
  let instance;
  let helpers = null;
  if (shared) {
    const mod = await WebAssembly.compileStreaming(fetch(new URL("app-mt.wasm", base)));
    const pages = new DataView(WebAssembly.Module.customSections(mod, "sg2im.mem")[0]).getUint32(0, true);
    memory.grow(pages - 1);
    go.importObject.sg2im.mem = memory;
    sg2imSharedGlue();
    const kmod = await compiled;
    if (kmod && inWorker && threads > 1) {
      // Started now, so that they are up before Go computes.
      const src = `onmessage = (e) => { onmessage = null; (${sg2imHelper})(e.data, postMessage); };`;
      const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
      helpers = sg2imHelpers(kmod, memory, threads - 1, () => {
        const worker = new Worker(url);
        return { worker, on: (f) => { worker.onmessage = f; worker.onerror = f; } };
      });
    }
    instance = await WebAssembly.instantiate(mod, go.importObject);
  } else {
    ({ instance } = await WebAssembly.instantiateStreaming(fetch(new URL("app.wasm", base)), go.importObject));
  }
  const mod = await compiled;
  if (mod) {
    try {
      kernel.set((await WebAssembly.instantiate(mod, { env: { mem: instance.exports.mem } })).exports, instance.exports.mem);
      globalThis.sg2imSIMD = true;
      if (helpers) kernel.helpers(await helpers, threads - 1);
    } catch (e) {
      console.warn("sg2im: no SIMD kernel, using the portable one:", e);
    }
  }
  go.run(instance);
};
