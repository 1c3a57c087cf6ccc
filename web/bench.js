// The benchmark page: starts the engine worker as the app does, asks it to
// time one configuration and shows the result, also in window.sg2imBench
// ({state: "running" | "done" | "error", params, result, error, env}).
"use strict";
(() => {
  const q = new URLSearchParams(location.search);
  const num = (k, d) => { const v = q.get(k); return v === null || v === "" ? d : Number(v); };
  // threads: 0 is the engine's default (one per core when the page is
  // cross-origin isolated), 1 the single-thread engine.
  const params = { config: q.get("config") || "coco64", warmup: num("warmup", 20), reps: num("reps", 15), threads: num("threads", 0) };
  const env = {
    userAgent: navigator.userAgent, crossOriginIsolated: self.crossOriginIsolated === true,
    hardwareConcurrency: navigator.hardwareConcurrency,
  };
  const state = window.sg2imBench = { state: "running", params, env, result: null, error: "" };
  const $ = (id) => document.getElementById(id);
  const status = (s) => { $("status").textContent = s; };

  const links = $("links");
  for (const c of ["coco64", "vg128", "x256", "shipped"]) {
    const a = document.createElement("a");
    a.className = "button";
    a.href = `?config=${c}&warmup=${params.warmup}&reps=${params.reps}&threads=${params.threads}`;
    a.textContent = c;
    links.append(a);
  }

  const fail = (msg) => {
    state.state = "error";
    state.error = msg;
    status("Failed: " + msg);
    document.title = "ERROR";
  };
  if (!(params.warmup >= 0) || !(params.reps >= 1) || !(params.threads >= 0)) {
    fail(`bad parameters: warmup=${q.get("warmup")} reps=${q.get("reps")} threads=${q.get("threads")}`);
    return;
  }

  const t0 = performance.now();
  const worker = new Worker(params.threads > 0 ? `worker.js?threads=${params.threads}` : "worker.js");
  const send = (req) => worker.postMessage({ json: JSON.stringify(Object.assign({ v: 1 }, req)) });
  const bench = () => {
    status(`Warming up ${params.config} for ${params.warmup} s…`);
    send({ id: 2, kind: "bench", bench: { config: params.config === "shipped" ? "loaded" : params.config, warmup_s: params.warmup, reps: params.reps } });
  };
  worker.onerror = (e) => fail("the worker failed: " + (e.message || e));
  worker.onmessage = (e) => {
    const r = JSON.parse(e.data.json);
    switch (r.kind) {
      case "ready":
        if (params.config === "shipped") {
          status("Loading the shipped model…");
          send({ id: 1, kind: "load", load: { url: "model.safetensors", name: "shipped model" } });
        } else {
          bench();
        }
        break;
      case "loaded":
        bench();
        break;
      case "progress":
        if (r.progress.phase === "warmup") {
          status(`Warming up ${params.config}: ${(r.progress.loaded / 1000).toFixed(0)} of ${params.warmup} s…`);
        } else if (r.progress.phase === "reps") {
          status(`Timing ${params.config}: pass ${r.progress.loaded} of ${r.progress.total}…`);
        }
        if (r.progress.total > 0) $("progress").value = r.progress.loaded / r.progress.total;
        break;
      case "bench":
        state.result = r.bench;
        state.wallMs = performance.now() - t0;
        state.state = "done";
        show(r.bench);
        status(`Done in ${(state.wallMs / 1000).toFixed(1)} s.`);
        $("progress").value = 1;
        document.title = "DONE";
        worker.terminate();
        break;
      case "error":
        fail(r.error);
        worker.terminate();
        break;
    }
  };

  function row(table, cells, head) {
    const tr = table.insertRow();
    for (const c of cells) {
      const td = document.createElement(head ? "th" : "td");
      td.textContent = c;
      tr.append(td);
    }
    return tr;
  }

  function show(b) {
    const s = $("summary");
    s.textContent = "";
    for (const [k, v] of [
      ["config", params.config], ["model", b.model], ["image", `${b.image_size[0]} x ${b.image_size[1]}`],
      ["parameters", b.params.toLocaleString("en")], ["objects", b.objects], ["matrix kernel", b.gemm], ["threads", String(b.threads)],
      ["warm-up", `${b.warmup_passes} passes in ${b.warmup_s.toFixed(1)} s`],
      ["median", `${b.median_ms.toFixed(1)} ms`], ["min", `${b.min_ms.toFixed(1)} ms`],
      ["GFLOP per image", b.gflop.toFixed(3)], ["GFLOP/s (median)", (b.gflop / b.median_ms * 1000).toFixed(2)],
      ["passes (ms)", b.times_ms.map((t) => t.toFixed(1)).join(" ")],
      ["cross-origin isolated", String(env.crossOriginIsolated)], ["browser", env.userAgent],
    ]) row(s, [k, v]);
    const l = $("layers");
    l.textContent = "";
    row(l, ["layer", "calls", "ms/image", "share", "GFLOP", "GFLOP/s"], true);
    let ms = 0, gflop = 0;
    for (const r of b.layers) { ms += r.ms; gflop += r.gflop; }
    const dash = (v, d) => (v > 0 ? v.toFixed(d) : "-");
    for (const r of b.layers) {
      row(l, [r.layer, r.calls || "", r.ms.toFixed(2), (100 * r.ms / ms).toFixed(1) + "%", dash(r.gflop, 3), dash(r.gflops, 2)]);
    }
    row(l, ["total", "", ms.toFixed(2), "100%", dash(gflop, 3), dash(gflop / ms * 1000, 2)]);
  }
})();
