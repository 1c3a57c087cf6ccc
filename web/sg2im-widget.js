// <sg2im-scene>: a scene graph drawn by sg2im, for docs pages.
//
//   <script type="module" src="https://example.org/sg2im/sg2im-widget.js"></script>
//   <sg2im-scene seed="3" show="image layout">sheep inside grass; sky above grass</sg2im-scene>
//
// The graph is the element's text in the one-line syntax, or a `graph`
// attribute holding JSON in the release's format. Other attributes: `model`
// (URL, default the shipped model next to this script), `seed` (default 0,
// as `sg2im generate`), `size` (CSS pixels per view, default 256), `show`
// (any of "image layout graph", default "image"), `editable` (a text input).
//
// The engine is the app's: app.wasm in a Web Worker, spoken to with the
// protocol package's messages. Widgets share one worker per model URL, which
// loads the model once; each widget draws when first scrolled into view.
// The worker starts from a blob: URL because a page may only start workers
// of its own origin; pages with a Content-Security-Policy need
// `worker-src blob:` (see the README).

const VERSION = 1; // protocol.Version
const DEFAULT_MODEL = new URL("model.safetensors", import.meta.url).href;
const DEFAULT_SIZE = 256;
const EDIT_DELAY_MS = 300; // debounce of the inline editor

// On the app's own origin the widget shares the app's service worker, so a
// docs page served there works offline after one visit. It registers after
// the first image, when the page has fetched the engine and the model: the
// worker's install then revalidates them (no body) instead of fetching
// them a second time.
if (new URL(import.meta.url).origin === location.origin && "serviceWorker" in navigator) {
  document.addEventListener("sg2im-draw", () => {
    const sw = self.crossOriginIsolated ? "sw.js?mt" : "sw.js"; // as web/main.js
    navigator.serviceWorker.register(new URL(sw, import.meta.url)).catch(() => {});
  }, { once: true });
}

// Engine is one worker and the model it loaded; requests carry ids and the
// worker answers them in order.
class Engine {
  #worker;
  #nextID = 0;
  #pending = new Map(); // id -> {resolve, reject}
  #started;
  #onStarted;
  #failure = null;

  constructor(modelURL) {
    const url = (name) => JSON.stringify(new URL(name, import.meta.url).href);
    const code = `importScripts(${url("wasm_exec.js")}, ${url("load.js")});
(async () => {
  try {
    await sg2imStart(${url("./")});
  } catch (e) {
    postMessage({ json: JSON.stringify({ v: ${VERSION}, id: 0, kind: "error", error: "the engine could not start: " + e }) });
  }
})();`;
    const blob = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    this.#started = new Promise((resolve) => { this.#onStarted = resolve; });
    this.#worker = new Worker(blob);
    this.#started.then(() => URL.revokeObjectURL(blob));
    this.#worker.onmessage = (ev) => this.#receive(JSON.parse(ev.data.json));
    this.#worker.onerror = (ev) => this.#fail("the engine could not start" + (ev.message ? ": " + ev.message : ""));
    this.loaded = this.#request({ kind: "load", load: { url: modelURL, name: modelURL } });
    this.loaded.catch(() => {}); // reported by each generate
  }

  async generate(req) {
    await this.loaded;
    return (await this.#request({ kind: "generate", generate: req })).images;
  }

  #request(body) {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = ++this.#nextID;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#started.then(() => this.#worker.postMessage({ json: JSON.stringify({ v: VERSION, id, ...body }) }));
    });
  }

  #receive(r) {
    if (r.kind === "ready") return this.#onStarted();
    if (r.kind === "progress") return;
    const p = this.#pending.get(r.id);
    if (!p) return r.kind === "error" && this.#fail(r.error);
    this.#pending.delete(r.id);
    if (r.kind === "error") p.reject(inputError(r.error, r.field));
    else p.resolve(r);
  }

  #fail(msg) {
    this.#failure = new Error(msg);
    for (const p of this.#pending.values()) p.reject(this.#failure);
    this.#pending.clear();
    this.#worker.terminate();
  }
}

// inputError is an error with the protocol's Field: the part at fault.
function inputError(msg, field) {
  return Object.assign(new Error(msg), { field });
}

const engines = new Map(); // model URL -> Engine

function engineFor(modelURL) {
  if (!engines.has(modelURL)) engines.set(modelURL, new Engine(modelURL));
  return engines.get(modelURL);
}

// The widget's CSS, adopted by every shadow root. A constructed sheet is
// not inline style, so pages whose CSP forbids inline styles still apply it.
const sheet = new CSSStyleSheet();
sheet.replaceSync(`
:host { display: inline-block; vertical-align: top; }
:host([hidden]) { display: none; }
.scene { all: initial; display: flex; flex-direction: column; gap: .3rem; max-width: 100%;
  font: 14px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430; }
.views { display: flex; flex-wrap: wrap; gap: .5rem; }
.view { position: relative; width: var(--size); max-width: 100%; aspect-ratio: var(--ratio, 1);
  background: #f2f2ee; border: 1px solid #d9dde3; box-sizing: border-box; }
.view[hidden] { display: none; }
canvas { display: block; image-rendering: pixelated; }
.layout canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
.box { position: absolute; box-sizing: border-box; border: 2px solid; }
.box span { position: absolute; left: -2px; top: -2px; padding: 0 3px; color: #fff; font-size: 11px; white-space: nowrap; }
svg { display: block; width: 100%; height: 100%; }
svg text { font: 11px system-ui, sans-serif; text-anchor: middle; dominant-baseline: central; }
svg line { stroke: #7a8494; stroke-width: 1.2; }
svg .pred ellipse { fill: #e7e9ed; stroke: #7a8494; }
input { font: inherit; color: inherit; padding: .25rem .4rem; border: 1px solid #aab2bd; border-radius: 4px;
  background: #fff; width: var(--size); max-width: 100%; box-sizing: border-box; }
input[aria-invalid=true] { border-color: #b3261e; }
input:focus-visible { outline: 3px solid #f2a900; outline-offset: 1px; }
input[hidden] { display: none; }
.status { margin: 0; min-height: 1.35em; color: #5b6575; font-size: 12px; width: var(--size); max-width: 100%; white-space: pre-wrap; }
.status.error { color: #b3261e; }
`);

// el builds an element; text is set as textContent, never parsed as HTML.
function el(tag, attrs = {}, text = "", ns = "") {
  const n = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text) n.textContent = text;
  return n;
}
const SVG = "http://www.w3.org/2000/svg";

// color is object i's colour, as the app's layout draws it (viz.Color).
function color(i) {
  const h = (i * 137.508) % 360, s = 0.75, v = 0.85;
  const c = v * s, x = c * (1 - Math.abs(((h / 60) % 2) - 1)), m = v - c;
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x]
    : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return [r + m, g + m, b + m].map((u) => Math.floor(u * 255));
}

// ink is black or white, whichever contrasts more with colour c (WCAG 2).
function ink(c) {
  const lin = (u) => (u /= 255) <= 0.03928 ? u / 12.92 : ((u + 0.055) / 1.055) ** 2.4;
  const l = 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  return 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? "#fff" : "#000";
}

// formatText writes a graph in the one-line syntax (model.FormatText), to
// fill the editor when the graph came as JSON.
function formatText(g) {
  const seen = new Map();
  const refs = g.objects.map((name) => {
    seen.set(name, (seen.get(name) || 0) + 1);
    return seen.get(name) > 1 ? `${name}#${seen.get(name)}` : name;
  });
  const used = new Set();
  const clauses = (g.relationships || []).filter(([s, , o]) => refs[s] !== undefined && refs[o] !== undefined)
    .map(([s, p, o]) => { used.add(s).add(o); return `${refs[s]} ${p} ${refs[o]}`; });
  return clauses.concat(refs.filter((_, i) => !used.has(i))).join("; ");
}

class Sg2imScene extends HTMLElement {
  static observedAttributes = ["graph", "model", "seed", "size", "show", "editable"];

  #v = {}; // shadow nodes
  #state = "idle"; // idle (not yet seen), drawing, drawn, error
  #seen = false;
  #edited = null; // the user's text in the editor, once they typed
  #result = null; // the last images response
  #seq = 0; // drops answers to superseded requests
  #timer = 0;
  #io = new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    this.#io.disconnect();
    this.#seen = true;
    this.#generate();
  });
  #mo = new MutationObserver(() => this.#sourceChanged());

  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [sheet];
    const v = this.#v;
    v.scene = el("div", { class: "scene" });
    v.image = el("canvas", { class: "view image", role: "img", "aria-label": "Generated image (not drawn yet)", width: 0, height: 0 });
    v.layout = el("div", { class: "view layout", role: "img", "aria-label": "Predicted layout" });
    v.layoutCanvas = v.layout.appendChild(el("canvas", { width: 0, height: 0 }));
    v.graph = el("svg", { class: "view graph", viewBox: "0 0 240 240", role: "img", "aria-label": "Scene graph" }, "", SVG);
    v.views = el("div", { class: "views" });
    v.views.append(v.image, v.layout, v.graph);
    v.editor = el("input", { type: "text", spellcheck: "false", "aria-label": "Scene graph, e.g. sheep inside grass; sky above grass" });
    v.status = el("p", { class: "status", role: "status" }, "Draws when scrolled into view.");
    v.scene.append(v.views, v.editor, v.status);
    root.append(v.scene);
    v.editor.addEventListener("input", () => {
      this.#edited = v.editor.value;
      this.#schedule(EDIT_DELAY_MS);
    });
  }

  // state is "idle" until the widget is first seen, then "drawing",
  // "drawn" or "error".
  get state() { return this.#state; }

  connectedCallback() {
    this.#render();
    if (!this.#seen) this.#io.observe(this);
    this.#mo.observe(this, { childList: true, characterData: true, subtree: true });
  }

  disconnectedCallback() {
    this.#io.disconnect();
    this.#mo.disconnect();
    clearTimeout(this.#timer);
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    if (name === "graph") return this.#sourceChanged();
    this.#render();
    if (name === "model" || name === "seed") this.#schedule(0);
  }

  // The page changed the graph: it replaces what the user typed.
  #sourceChanged() {
    this.#edited = null;
    this.#render();
    this.#schedule(0);
  }

  // #schedule coalesces changes made together (or typed quickly) into one
  // request, and waits for the first sight of the widget.
  #schedule(delay) {
    clearTimeout(this.#timer);
    if (this.#seen) this.#timer = setTimeout(() => this.#generate(), delay);
  }

  #show() {
    const words = (this.getAttribute("show") || "image").split(/\s+/);
    return new Set(words.filter((w) => ["image", "layout", "graph"].includes(w)));
  }

  // #source returns the graph to draw as a generate request's fields.
  #source() {
    if (this.#edited !== null) return { text: this.#edited };
    const json = this.getAttribute("graph");
    if (json === null) return { text: this.textContent.trim() };
    let g;
    try {
      g = JSON.parse(json);
    } catch (e) {
      throw inputError(`the graph attribute is not JSON: ${e.message}`, "graph");
    }
    if (Array.isArray(g)) g = g[0]; // a release graph file may be a list
    if (!g || !Array.isArray(g.objects)) throw inputError('the graph attribute needs {"objects": [...], "relationships": [[s, "predicate", o], ...]}', "graph");
    return { graph: g };
  }

  #seed() {
    const s = (this.getAttribute("seed") ?? "0").trim();
    if (!/^\d{1,15}$/.test(s)) throw inputError(`seed "${s}": want a whole number from 0 (default 0)`, "seed");
    return Number(s);
  }

  #modelURL() {
    const m = this.getAttribute("model");
    return m ? new URL(m, document.baseURI).href : DEFAULT_MODEL;
  }

  // #render updates what attributes decide without a new image.
  #render() {
    const v = this.#v;
    const size = Number(this.getAttribute("size")) > 0 ? Number(this.getAttribute("size")) : DEFAULT_SIZE;
    v.scene.style.setProperty("--size", `${size}px`);
    const show = this.#show();
    // An attribute, not .hidden: SVG elements lack the property.
    v.image.toggleAttribute("hidden", !show.has("image"));
    v.layout.toggleAttribute("hidden", !show.has("layout"));
    v.graph.toggleAttribute("hidden", !show.has("graph"));
    v.editor.hidden = !this.hasAttribute("editable");
    if (this.#edited === null) {
      try {
        const src = this.#source();
        v.editor.value = src.text ?? formatText(src.graph);
      } catch {
        v.editor.value = "";
      }
    }
    if (this.#result) this.#drawViews();
  }

  async #generate() {
    const seq = ++this.#seq;
    let req;
    try {
      req = { ...this.#source(), seed: this.#seed() };
    } catch (e) {
      return this.#error(e.message, e.field);
    }
    this.#setState("drawing", "Drawing…");
    const t0 = performance.now();
    try {
      const images = await engineFor(this.#modelURL()).generate(req);
      if (seq !== this.#seq) return;
      this.#result = images;
      this.#drawViews();
      const ms = performance.now() - t0;
      this.#setState("drawn", `${formatText(images.graph)} · seed ${images.seeds[0]} · ${ms.toFixed(0)} ms`);
      this.dispatchEvent(new CustomEvent("sg2im-draw", { bubbles: true, detail: { seed: images.seeds[0], ms } }));
    } catch (e) {
      if (seq !== this.#seq) return;
      this.#error(e.field === "model" ? `The model could not be loaded: ${e.message}` : e.message, e.field);
    }
  }

  // #error shows a message inside the widget; the last image stays.
  #error(msg, field) {
    this.#setState("error", msg);
    this.#v.editor.setAttribute("aria-invalid", field === "text" || field === "objects" || field === "relationships");
    this.dispatchEvent(new CustomEvent("sg2im-error", { bubbles: true, detail: { message: msg, field } }));
  }

  #setState(state, text) {
    this.#state = state;
    this.#v.status.textContent = text;
    this.#v.status.classList.toggle("error", state === "error");
    if (state !== "error") this.#v.editor.setAttribute("aria-invalid", "false");
  }

  #drawViews() {
    const r = this.#result, v = this.#v;
    const bytes = Uint8ClampedArray.from(atob(r.rgba[0]), (c) => c.charCodeAt(0));
    v.scene.style.setProperty("--ratio", `${r.width} / ${r.height}`);
    v.image.width = r.width;
    v.image.height = r.height;
    v.image.getContext("2d").putImageData(new ImageData(bytes, r.width, r.height), 0, 0);
    v.image.setAttribute("aria-label", `Generated image of: ${formatText(r.graph)}`);
    if (!v.layout.hidden) this.#drawLayout(r);
    if (!v.graph.hasAttribute("hidden")) this.#drawGraph(r.graph);
  }

  // #drawLayout paints each object's mask in its colour over its box, as the
  // app does, and outlines and labels the boxes.
  #drawLayout(r) {
    const v = this.#v, S = 4; // canvas pixels per image pixel, for crisp masks
    const w = r.width * S, h = r.height * S, M = r.mask_size;
    const img = new ImageData(w, h);
    img.data.fill(255);
    v.layout.querySelectorAll(".box").forEach((n) => n.remove());
    r.boxes.forEach(([x0, y0, x1, y1], i) => {
      const c = color(i);
      const bx0 = Math.max(0, Math.round(x0 * w)), by0 = Math.max(0, Math.round(y0 * h));
      const bx1 = Math.min(w, Math.round(x1 * w)), by1 = Math.min(h, Math.round(y1 * h));
      for (let y = by0; y < by1; y++) {
        for (let x = bx0; x < bx1; x++) {
          let a = 1;
          if (r.masks) {
            const mx = Math.min(M - 1, Math.floor(((x - bx0) * M) / (bx1 - bx0)));
            const my = Math.min(M - 1, Math.floor(((y - by0) * M) / (by1 - by0)));
            a = r.masks[i][my * M + mx];
          }
          a = Math.max(0, Math.min(1, a)) * 0.6; // 0.6: masks stay see-through, as in viz
          const p = (y * w + x) * 4;
          for (let k = 0; k < 3; k++) img.data[p + k] += (c[k] - img.data[p + k]) * a;
        }
      }
      const box = el("div", { class: "box" });
      const rgb = `rgb(${c.join(",")})`;
      Object.assign(box.style, { left: `${x0 * 100}%`, top: `${y0 * 100}%`, width: `${(x1 - x0) * 100}%`, height: `${(y1 - y0) * 100}%`, borderColor: rgb });
      box.append(el("span", {}, r.graph.objects[i]));
      box.firstChild.style.background = rgb;
      box.firstChild.style.color = ink(c);
      v.layout.append(box);
    });
    v.layoutCanvas.width = w;
    v.layoutCanvas.height = h;
    v.layoutCanvas.getContext("2d").putImageData(img, 0, 0);
  }

  // #drawGraph draws objects on a circle and each relationship as a
  // predicate node between its subject and object, as the paper does.
  #drawGraph(g) {
    const svg = this.#v.graph, n = g.objects.length, C = 120, R = n > 1 ? 85 : 0;
    svg.replaceChildren();
    const at = g.objects.map((_, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1);
      return [C + R * Math.cos(a), C + R * Math.sin(a)];
    });
    const node = (x, y, label, cls, fill, text = "#1d2430") => {
      const grp = el("g", { class: cls }, "", SVG);
      const w = label.length * 6.2 + 12; // about 6 px per 11 px glyph
      const shape = cls === "pred"
        ? el("ellipse", { cx: x, cy: y, rx: w / 2, ry: 9 }, "", SVG)
        : el("rect", { x: x - w / 2, y: y - 10, width: w, height: 20, rx: 4, fill }, "", SVG);
      grp.append(shape, el("text", { x, y, fill: text }, label, SVG));
      return grp;
    };
    const lines = [], preds = [], pairs = new Map();
    for (const [s, p, o] of g.relationships || []) {
      const [sx, sy] = at[s], [ox, oy] = at[o];
      const key = `${Math.min(s, o)},${Math.max(s, o)}`, k = pairs.get(key) || 0;
      pairs.set(key, k + 1);
      // Predicates between the same pair fan out sideways so they don't overlap.
      const len = Math.hypot(ox - sx, oy - sy) || 1, off = (k % 2 ? -1 : 1) * Math.ceil(k / 2) * 22;
      const mx = (sx + ox) / 2 - ((oy - sy) / len) * off, my = (sy + oy) / 2 + ((ox - sx) / len) * off - (s === o ? 30 : 0);
      lines.push(el("line", { x1: sx, y1: sy, x2: mx, y2: my }, "", SVG), el("line", { x1: mx, y1: my, x2: ox, y2: oy }, "", SVG));
      preds.push(node(mx, my, p, "pred"));
    }
    const objs = g.objects.map((name, i) => node(at[i][0], at[i][1], name, "obj", `rgb(${color(i).join(",")})`, ink(color(i))));
    svg.append(...lines, ...preds, ...objs);
  }
}

if (!customElements.get("sg2im-scene")) customElements.define("sg2im-scene", Sg2imScene);
