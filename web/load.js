// Starts app.wasm (the page or the engine: the same Go binary) with
// kernel.wasm, its SIMD matrix tiles and Winograd transforms, instantiated
// on the Go module's memory (see nn/gemm_wasm.go). Without WebAssembly
// SIMD the Go binary runs its portable kernels.
"use strict";

// sg2imImports returns app.wasm's imports of module sg2im, calling into
// whatever exports set() installs.
globalThis.sg2imImports = function () {
  let k = null;
  return {
    set(exports) { k = exports; },
    imports: {
      tile: (kc, a, b, c, ldc, alpha, beta) => k.tile(kc, a, b, c, ldc, alpha, beta),
      tileRows: (kc, a, x, rowOff, c, ldc, alpha, beta) => k.tileRows(kc, a, x, rowOff, c, ldc, alpha, beta),
      tileA: (kc, a, lda, b, c, ldc, alpha, beta) => k.tileA(kc, a, lda, b, c, ldc, alpha, beta),
      winoIn: (rows, rowLen, oOff, dst, xi, srcStep, dstStep, count) =>
        k.winoIn(rows, rowLen, oOff, dst, xi, srcStep, dstStep, count),
      winoOut: (m, xi, out, rowLen, groups, scale, shift, slope, act) =>
        k.winoOut(m, xi, out, rowLen, groups, scale, shift, slope, act),
    },
  };
};

// sg2imStart fetches app.wasm and kernel.wasm from base (a URL ending in
// "/") and runs the Go program.
globalThis.sg2imStart = async function (base) {
  const go = new Go();
  const kernel = sg2imImports();
  go.importObject.sg2im = kernel.imports;
  const compiled = WebAssembly.compileStreaming(fetch(new URL("kernel.wasm", base))).catch(() => null);
  const { instance } = await WebAssembly.instantiateStreaming(fetch(new URL("app.wasm", base)), go.importObject);
  const mod = await compiled;
  if (mod) {
    try {
      kernel.set((await WebAssembly.instantiate(mod, { env: { mem: instance.exports.mem } })).exports);
      globalThis.sg2imSIMD = true;
    } catch (e) {
      console.warn("sg2im: no SIMD kernel, using the portable one:", e);
    }
  }
  go.run(instance);
};
