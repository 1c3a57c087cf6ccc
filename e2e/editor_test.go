package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The editor's tests share one build and one page; each step says what a
// user does and checks what they see. Steps depend on the ones before.

// redrawn clears the status line, runs the edit, and waits for the next
// picture (the status says "Drawn" again).
func redrawn(t *testing.T, ctx context.Context, what string, edit func()) {
	t.Helper()
	do(t, ctx, `const s = document.getElementById("status"); if (s) s.textContent = ""`)
	edit()
	waitFor(t, ctx, what, drawnJS, 60*time.Second)
}

// key presses one key on the focused element.
func key(t *testing.T, ctx context.Context, k string, mods ...chromedp.Modifier) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(k, chromedp.KeyModifiers(mods...))); err != nil {
		t.Fatal(err)
	}
}

// focused is the data-key of the focused element ("" for none).
func focused(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `(document.activeElement && document.activeElement.dataset.key) || ""`)
}

// pins reads the pinned boxes from the address: index -> "x0,y0,x1,y1".
func pins(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	frag := eval[string](t, ctx, `new URLSearchParams(location.hash.slice(1)).get("pin") || ""`)
	m := map[string]string{}
	for _, p := range strings.Split(frag, ";") {
		if i, b, ok := strings.Cut(p, ":"); ok {
			m[i] = b
		}
	}
	return m
}

func pinBox(t *testing.T, ctx context.Context, i string) [4]float64 {
	t.Helper()
	var b [4]float64
	s, ok := pins(t, ctx)[i]
	if !ok {
		t.Fatalf("object %s is not pinned (address %s)", i, eval[string](t, ctx, "location.hash"))
	}
	fmt.Sscanf(strings.ReplaceAll(s, ",", " "), "%g %g %g %g", &b[0], &b[1], &b[2], &b[3])
	return b
}

// layoutAt is the client position of (x, y) in [0, 1] on the layout.
func layoutAt(t *testing.T, ctx context.Context, x, y float64) (float64, float64) {
	t.Helper()
	r := eval[[]float64](t, ctx, `(() => { const l = document.getElementById("layout"); l.scrollIntoView({block: "center"}); const r = l.getBoundingClientRect(); return [r.left, r.top, r.width, r.height] })()`)
	return r[0] + x*r[2], r[1] + y*r[3]
}

// dragOnLayout drags the mouse from one layout point to another.
func dragOnLayout(t *testing.T, ctx context.Context, x0, y0, x1, y1 float64) {
	t.Helper()
	ax, ay := layoutAt(t, ctx, x0, y0)
	bx, by := layoutAt(t, ctx, x1, y1)
	if err := chromedp.Do(ctx,
		chromedp.MouseEvent("mousePressed", ax, ay, chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseMoved", (ax+bx)/2, (ay+by)/2, chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseMoved", bx, by, chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseReleased", bx, by, chromedp.ButtonLeft)); err != nil {
		t.Fatal(err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.015 }

// boxStyle is where the layout shows object i's box.
func boxStyle(t *testing.T, ctx context.Context, i int) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(`(() => { const s = document.querySelector('#layout .box[data-i="%d"]').style; return [s.left, s.top, s.width, s.height].join(" ") })()`, i))
}

// captureSaves makes downloads land in window.saves as {name, blob} instead.
const captureSavesJS = `window.saves = []; const made = URL.createObjectURL.bind(URL);
URL.createObjectURL = (b) => { window.lastBlob = b; return made(b) };
HTMLAnchorElement.prototype.click = function () { if (this.download) window.saves.push({name: this.download, blob: window.lastBlob}); }`

func lastSave(t *testing.T, ctx context.Context) (string, string) {
	t.Helper()
	waitFor(t, ctx, "a download", `window.saves.length > 0`, 10*time.Second)
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(async () => { const s = window.saves.pop(); return [s.name, await s.blob.text()] })()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	return v[0], v[1]
}

const nested = "#scene=sky+above+grass;+sheep+inside+grass&seed=3&pin=1:0,0.4,1,1;2:0.3,0.6,0.5,0.8"

func TestEditor(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take minutes; skipped with -short")
	}
	ctx := browser(t)
	dir := buildApp(t)
	url, stop := serve(t, dir)
	defer stop()
	redrawn(t, ctx, "a nested scene from a link", func() {
		if err := chromedp.Do(ctx, chromedp.Navigate(url+nested)); err != nil {
			t.Fatal(err)
		}
	})

	editorPins(t, ctx)
	exported := editorKeep(t, ctx)
	editorUndoFocus(t, ctx, exported)
	editorMessages(t, ctx)
	editorExtras(t, ctx, url)
	editorLayout(t, ctx)
	editorModels(t, ctx)
	modelParam(t, ctx, url, dir)
}

// editorPins drags, pins and unpins boxes.
func editorPins(t *testing.T, ctx context.Context) {
	t.Log("a box inside another is the one grabbed; the dragged box is pinned, the others not")
	grass := pinBox(t, ctx, "1")
	redrawn(t, ctx, "after dragging the sheep", func() { dragOnLayout(t, ctx, 0.4, 0.7, 0.6, 0.65) })
	sheep := pinBox(t, ctx, "2")
	if !near(sheep[0], 0.5) || !near(sheep[1], 0.55) || pinBox(t, ctx, "1") != grass {
		t.Errorf("after dragging the sheep: sheep %v (want at 0.5, 0.55), grass %v (want %v)", sheep, pinBox(t, ctx, "1"), grass)
	}
	if focused(t, ctx) != "box-2" {
		t.Errorf("focus after the drag is on %q, want the sheep's box", focused(t, ctx))
	}
	screenshot(t, ctx, "e1-nested-drag")

	t.Log("undo and redo of a drag")
	redrawn(t, ctx, "after undo", func() { do(t, ctx, `document.getElementById("undo").click()`) })
	if b := pinBox(t, ctx, "2"); !near(b[0], 0.3) {
		t.Errorf("undo left the sheep at %v", b)
	}
	redrawn(t, ctx, "after redo", func() { key(t, ctx, "z", chromedp.ModifierCtrl, chromedp.ModifierShift) })
	if b := pinBox(t, ctx, "2"); !near(b[0], 0.5) {
		t.Errorf("redo left the sheep at %v", b)
	}

	t.Log("unpinning one box: it follows the model again, the others stay")
	redrawn(t, ctx, "after unpinning grass", func() {
		do(t, ctx, `document.querySelector('[data-key="unpin-1"]').focus(); document.querySelector('[data-key="unpin-1"]').click()`)
	})
	if p := pins(t, ctx); len(p) != 1 || p["2"] == "" {
		t.Errorf("pins after unpinning the grass: %v, want the sheep's only", p)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#layout .box.pinned").length`); n != 1 {
		t.Errorf("%d boxes drawn as pinned, want 1", n)
	}

	t.Log("a relationship edit moves the boxes that follow the model, not the pinned one; the focus stays on the menu")
	skyBefore, sheepBefore := boxStyle(t, ctx, 0), boxStyle(t, ctx, 2)
	redrawn(t, ctx, "after changing a predicate", func() {
		do(t, ctx, `const s = document.querySelector('[data-key="rel-0-p"]'); s.focus(); s.value = "below"; s.dispatchEvent(new Event("change", {bubbles: true}))`)
	})
	if focused(t, ctx) != "rel-0-p" {
		t.Errorf("focus after changing a relationship menu is on %q", focused(t, ctx))
	}
	if boxStyle(t, ctx, 0) == skyBefore {
		t.Error("the sky's box (not pinned) did not follow the new relationship")
	}
	if boxStyle(t, ctx, 2) != sheepBefore {
		t.Errorf("the pinned sheep moved: %s, was %s", boxStyle(t, ctx, 2), sheepBefore)
	}

	t.Log("arrow keys: each press moves the focused box, and the focus stays")
	start := pinBox(t, ctx, "2")
	do(t, ctx, `document.querySelector('[data-key="box-2"]').focus()`)
	for i := 1; i <= 2; i++ {
		redrawn(t, ctx, "after an arrow key", func() { key(t, ctx, kb.ArrowRight) })
		if f := focused(t, ctx); f != "box-2" {
			t.Fatalf("after arrow press %d the focus is on %q", i, f)
		}
	}
	if b := pinBox(t, ctx, "2"); !near(b[0], start[0]+0.04) {
		t.Errorf("two arrow presses moved the box from %v to %v, want +0.04", start, b)
	}

	t.Log("retyping the scene with the sheep elsewhere in it keeps the sheep's pin")
	pinned := pinBox(t, ctx, "2")
	text := eval[string](t, ctx, `document.getElementById("text-input").value`)
	redrawn(t, ctx, "a clause in front", func() { setInput(t, ctx, "#text-input", "tree left of sky; "+text) })
	if p := pins(t, ctx); len(p) != 1 || pinBox(t, ctx, "3") != pinned {
		t.Errorf("after a clause in front: pins %v, want the sheep (now object 3) at %v", p, pinned)
	}
	redrawn(t, ctx, "undo of the clause", func() { do(t, ctx, `document.getElementById("undo").click()`) })

	t.Log("U on a focused box unpins it; Unpin all unpins all; undo pins again")
	do(t, ctx, `document.querySelector('[data-key="box-2"]').focus()`)
	redrawn(t, ctx, "U on the sheep's box", func() { key(t, ctx, "u") })
	if p := pins(t, ctx); len(p) != 0 {
		t.Errorf("pins after U: %v", p)
	}
	redrawn(t, ctx, "undo of U", func() { key(t, ctx, "z", chromedp.ModifierCtrl) })
	redrawn(t, ctx, "Unpin all", func() { do(t, ctx, `document.getElementById("reset-boxes").click()`) })
	if p := pins(t, ctx); len(p) != 0 || !eval[bool](t, ctx, `document.getElementById("reset-boxes").disabled`) {
		t.Errorf("pins after Unpin all: %v (and the button should be disabled)", p)
	}
	redrawn(t, ctx, "undo of Unpin all", func() { do(t, ctx, `document.getElementById("undo").click()`) })
	if pinBox(t, ctx, "2") != pinned {
		t.Errorf("undo did not pin the sheep again")
	}
}

// editorKeep checks what survives a reload and travels in files and links;
// it returns the exported session file.
func editorKeep(t *testing.T, ctx context.Context) string {
	t.Log("the seed and the pins survive a reload and are in the exported JSON")
	pinned := pinBox(t, ctx, "2")
	redrawn(t, ctx, "a reload", func() {
		if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
	})
	if s := eval[string](t, ctx, `document.getElementById("seed").value`); s != "3" {
		t.Errorf("seed after reload %q", s)
	}
	if b := pinBox(t, ctx, "2"); b != pinned {
		t.Errorf("the pinned box after reload: %v, was %v", b, pinned)
	}
	do(t, ctx, captureSavesJS)
	do(t, ctx, `document.getElementById("export-json").click()`)
	name, body := lastSave(t, ctx)
	if name != "scene.json" || !strings.Contains(body, `"seed": 3`) || !strings.Contains(body, `"boxes": [`) || !strings.Contains(body, "null") {
		t.Errorf("exported %s:\n%s", name, body)
	}
	exported := filepath.Join(t.TempDir(), "session.json")
	os.WriteFile(exported, []byte(body), 0o644)

	t.Log("the link opens the same picture in a fresh browser profile")
	link := eval[string](t, ctx, "location.href")
	want := eval[string](t, ctx, imageHashJS)
	ctx2, stop2 := newBrowser(t)
	if err := chromedp.Do(ctx2, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx2, "the shared picture", drawnJS, 90*time.Second)
	if got := eval[string](t, ctx2, imageHashJS); got != want || got == "" {
		t.Errorf("the link %s draws %q in a fresh browser, %q here", link, got, want)
	}
	if n := eval[int](t, ctx2, `localStorage.length`); n == 0 {
		t.Log("(the fresh profile had nothing stored before: the link alone carried the scene)")
	}
	stop2()
	return exported
}

// editorUndoFocus checks undo of each kind of edit and where the focus goes.
func editorUndoFocus(t *testing.T, ctx context.Context, exported string) {
	t.Log("removing an object says which relationships went; undo brings them back; focus stays in the list")
	redrawn(t, ctx, "after removing the grass", func() {
		do(t, ctx, `document.querySelector('[data-key="obj-1-del"]').focus(); document.querySelector('[data-key="obj-1-del"]').click()`)
	})
	note := eval[string](t, ctx, `document.getElementById("edit-note").textContent`)
	if !strings.Contains(note, "2 relationships") || !strings.Contains(note, "sheep inside grass") {
		t.Errorf("note after removing the grass: %q", note)
	}
	if f := focused(t, ctx); f != "obj-1-del" {
		t.Errorf("focus after removing an object is on %q", f)
	}
	redrawn(t, ctx, "after undoing the removal", func() { key(t, ctx, "z", chromedp.ModifierCtrl) })
	if n := eval[int](t, ctx, `document.querySelectorAll("#relationships li").length`); n != 2 {
		t.Errorf("undo brought back %d relationships, want 2", n)
	}

	t.Log("moving an object keeps the focus on the button, in the object's new row")
	redrawn(t, ctx, "a moved object", func() {
		do(t, ctx, `const b = document.querySelector('[data-key="obj-0-down"]'); b.focus(); b.click()`)
	})
	if f := focused(t, ctx); f != "obj-1-down" {
		t.Errorf("after moving object 0 down the focus is on %q", f)
	}
	redrawn(t, ctx, "undo of the move", func() { key(t, ctx, "z", chromedp.ModifierCtrl) })

	t.Log("undo of an example")
	before := eval[string](t, ctx, `document.getElementById("text-input").value`)
	redrawn(t, ctx, "an example", func() { do(t, ctx, `document.querySelectorAll("#gallery button")[1].click()`) })
	if eval[string](t, ctx, `document.getElementById("text-input").value`) == before {
		t.Fatal("the example did not change the scene")
	}
	redrawn(t, ctx, "undo of the example", func() { key(t, ctx, "z", chromedp.ModifierCtrl) })
	if got := eval[string](t, ctx, `document.getElementById("text-input").value`); got != before {
		t.Errorf("after undoing the example the scene is %q, want %q", got, before)
	}

	t.Log("Ctrl+Z in the scene field after typing gives the scene before the typing, whole")
	do(t, ctx, `const e = document.getElementById("text-input"); e.focus(); e.setSelectionRange(e.value.length, e.value.length)`)
	redrawn(t, ctx, "typing", func() { key(t, ctx, "; tree left of sky") })
	redrawn(t, ctx, "Ctrl+Z in the field", func() { key(t, ctx, "z", chromedp.ModifierCtrl) })
	if got := eval[string](t, ctx, `document.getElementById("text-input").value`); got != before {
		t.Errorf("Ctrl+Z in the field gave %q, want %q", got, before)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#objects li").length`); n != 3 {
		t.Errorf("the list has %d objects after the undo, want 3", n)
	}

	t.Log("undo of a new seed")
	oldSeed := eval[string](t, ctx, `document.getElementById("seed").value`)
	redrawn(t, ctx, "a new seed", func() { do(t, ctx, `document.getElementById("new-seed").click()`) })
	redrawn(t, ctx, "undo of the seed", func() { do(t, ctx, `document.getElementById("undo").click()`) })
	if s := eval[string](t, ctx, `document.getElementById("seed").value`); s != oldSeed || !strings.Contains(eval[string](t, ctx, "location.hash"), "seed="+oldSeed) {
		t.Errorf("after undoing a new seed: seed %q, address %s; want %s", s, eval[string](t, ctx, "location.hash"), oldSeed)
	}

	t.Log("choosing a variation keeps the focus on it")
	waitFor(t, ctx, "variations", `document.querySelectorAll("#variations button").length === 4`, 60*time.Second)
	seed := eval[string](t, ctx, `document.querySelector('[data-key="var-1"]').getAttribute("aria-label").replace("Use seed ", "")`)
	redrawn(t, ctx, "a variation", func() {
		do(t, ctx, `const b = document.querySelector('[data-key="var-1"]'); b.focus(); b.click()`)
	})
	waitFor(t, ctx, "new variations", `document.querySelector('[data-key="var-0"]').getAttribute("aria-label") === "Use seed `+fmt.Sprint(atoi(seed)+1)+`" && document.querySelectorAll("#variations .stale").length === 0`, 60*time.Second)
	if f := focused(t, ctx); f != "var-1" || eval[string](t, ctx, `document.getElementById("seed").value`) != seed {
		t.Errorf("after choosing seed %s: focus %q, seed field %q", seed, f, eval[string](t, ctx, `document.getElementById("seed").value`))
	}

	t.Log("ArrowDown on the closed model menu does not open the file chooser")
	do(t, ctx, `window.chooser = false; document.getElementById("model-file").addEventListener("click", () => { window.chooser = true }); document.getElementById("model-select").focus()`)
	key(t, ctx, kb.ArrowDown)
	time.Sleep(500 * time.Millisecond)
	if eval[bool](t, ctx, "window.chooser") {
		t.Error("ArrowDown on the model menu opened the file chooser")
	}

	t.Log("a session file imports scene, seed and pins")
	redrawn(t, ctx, "an imported session", func() {
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#import-json", []string{exported})); err != nil {
			t.Fatal(err)
		}
	})
	if s := eval[string](t, ctx, `document.getElementById("seed").value`); s != "3" || len(pins(t, ctx)) != 1 {
		t.Errorf("after import: seed %q, pins %v", s, pins(t, ctx))
	}
}

// modelParam opens models named in the address.
func modelParam(t *testing.T, ctx context.Context, url, dir string) {
	t.Log("?model=URL opens that model; a missing one says so and the shipped model draws")
	b, err := os.ReadFile(filepath.Join("..", "testdata", "tiny_masks.legacy.pt"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tiny.pt"), b, 0o644)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"?model=tiny.pt")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the model of the address", `document.getElementById("model-status").textContent.startsWith("tiny.pt:")`, 60*time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"?model=missing.pt")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the shipped model after a missing one", `document.getElementById("model-status").textContent.startsWith("shipped model:") && document.getElementById("model-error").textContent.includes("missing.pt")`, 60*time.Second)
	t.Logf("a missing model: %q", eval[string](t, ctx, `document.getElementById("model-error").textContent`))
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// editorMessages checks what the page says about the scene.
func editorMessages(t *testing.T, ctx context.Context) {
	t.Log("errors wait for a pause in typing, and speak the browser's language")
	sync := eval[string](t, ctx, `(() => { const e = document.getElementById("text-input"); e.focus(); e.value = "sheep above"; e.dispatchEvent(new Event("input", {bubbles: true}));
	  return document.getElementById("text-error").textContent })()`)
	if sync != "" {
		t.Errorf("an error showed at the keystroke: %q", sync)
	}
	setInput(t, ctx, "#text-input", "qqqzzzx above grass")
	do(t, ctx, `document.getElementById("text-input").blur()`)
	waitFor(t, ctx, "an error for an unknown word", `document.getElementById("objects-error").textContent !== ""`, 30*time.Second)
	msg := eval[string](t, ctx, `document.getElementById("objects-error").textContent`)
	if strings.Contains(msg, "sg2im ") || strings.Contains(msg, "Go ") || !strings.Contains(msg, "qqqzzzx") {
		t.Errorf("error %q: want the word, and no command-line advice or Go names", msg)
	}

	t.Log("a relationship of an object with itself gets a word")
	redrawn(t, ctx, "a self-relationship", func() { setInput(t, ctx, "#text-input", "sheep above sheep; sky above grass") })
	if n := eval[string](t, ctx, `document.getElementById("scene-notes").textContent`); !strings.Contains(n, "itself") {
		t.Errorf("notes for sheep above sheep: %q", n)
	}

	t.Log("duplicate names keep their tags in the list")
	redrawn(t, ctx, "two trees", func() { setInput(t, ctx, "#text-input", "tree left of tree#2; sky above tree") })
	if v := eval[string](t, ctx, `[...document.querySelectorAll("#objects input")].map(e => e.value).join(",")`); v != "tree,tree#2,sky" {
		t.Errorf("object list %q, want tree,tree#2,sky", v)
	}

	t.Log("46 objects get a warning")
	var many []string
	for i := 1; i <= 46; i++ {
		many = append(many, fmt.Sprintf("tree#%d", i))
	}
	redrawn(t, ctx, "46 objects", func() { setInput(t, ctx, "#text-input", strings.Join(many, "; ")) })
	if n := eval[string](t, ctx, `document.getElementById("scene-notes").textContent`); !strings.Contains(n, "46 objects") {
		t.Errorf("no warning at 46 objects: %q", n)
	}

	t.Log("at 64 objects a keystroke rebuilds nothing at once, and a burst of edits ends on the last one")
	var rels []string
	for i := 1; i < 64; i++ {
		rels = append(rels, fmt.Sprintf("tree#%d left of tree#%d", i, i+1))
	}
	text := strings.Join(rels, "; ")
	redrawn(t, ctx, "64 objects", func() { setInput(t, ctx, "#text-input", text) })
	changes := eval[int](t, ctx, `(() => {
	  const seen = new MutationObserver(() => {});
	  for (const id of ["objects", "relationships", "graph-svg", "layout"]) seen.observe(document.getElementById(id), {subtree: true, childList: true, attributes: true, characterData: true});
	  const e = document.getElementById("text-input"); e.value += "; sky";
	  const t0 = performance.now(); e.dispatchEvent(new Event("input", {bubbles: true})); window.keyMs = performance.now() - t0;
	  const n = seen.takeRecords().length; seen.disconnect(); return n })()`)
	t.Logf("measured: one keystroke's handler at 64 objects: %.1f ms", eval[float64](t, ctx, "window.keyMs"))
	if changes != 0 {
		t.Errorf("one keystroke at 64 objects changed the lists, graph or layout %d times at once", changes)
	}
	waitFor(t, ctx, "the lists at the pause", `document.querySelectorAll("#objects li").length === 65`, 30*time.Second)
	// Sixteen variations keep the engine busy while the edits come.
	do(t, ctx, `const c = document.getElementById("variation-count"); c.value = "16"; c.dispatchEvent(new Event("change"))`)
	redrawn(t, ctx, "a burst of edits", func() {
		for _, w := range []string{"sky", "cloud", "sheep", "house", "car", "road"} {
			setInput(t, ctx, "#text-input", text+"; "+w)
			time.Sleep(170 * time.Millisecond)
		}
	})
	// How many requests the engine skips depends on how the edits fall
	// between drawings (TestWorkerSkipsStale checks the skipping itself);
	// what must hold is that the picture is the last edit's.
	t.Logf("%s; stale requests skipped by the engine: %s", eval[string](t, ctx, `document.getElementById("status").textContent`), eval[string](t, ctx, `document.getElementById("status").dataset.cancelled || "0"`))
	waitFor(t, ctx, "the last edit's lists", `document.querySelectorAll("#objects li").length === 65 && document.querySelector('[data-key="obj-64"]').value === "road"`, 30*time.Second)
}

// editorExtras checks the words panel, drawing a box and the download.
func editorExtras(t *testing.T, ctx context.Context, url string) {
	t.Log("drawing a box on an empty spot adds a pinned object")
	redrawn(t, ctx, "one small sheep", func() {
		if err := chromedp.Do(ctx, chromedp.Navigate(url+"#scene=sheep&seed=2&pin=0:0.05,0.05,0.3,0.3")); err != nil {
			t.Fatal(err)
		}
	})
	redrawn(t, ctx, "a drawn box", func() { dragOnLayout(t, ctx, 0.6, 0.6, 0.9, 0.95) })
	if n := eval[int](t, ctx, `document.querySelectorAll("#objects li").length`); n != 2 {
		t.Fatalf("%d objects after drawing a box, want 2", n)
	}
	// The address follows edits after a pause in typing: wait for it.
	waitFor(t, ctx, "the drawn box in the address", `(new URLSearchParams(location.hash.slice(1)).get("pin") || "").split(";").some((p) => p.startsWith("1:"))`, 30*time.Second)
	if b := pinBox(t, ctx, "1"); !near(b[0], 0.6) || !near(b[3], 0.95) {
		t.Errorf("the drawn object's box %v", b)
	}
	if f := focused(t, ctx); f != "obj-1" {
		t.Errorf("after drawing, the focus is on %q, want the new object's name", f)
	}

	t.Log("the words panel finds and adds words")
	do(t, ctx, `const s = document.getElementById("vocab-search"); s.value = "shee"; s.dispatchEvent(new Event("input", {bubbles: true}))`)
	shown := eval[[]string](t, ctx, `[...document.querySelectorAll("#vocab-list li:not([hidden]) button")].map(b => b.textContent)`)
	if len(shown) == 0 || len(shown) > 5 || shown[0] != "sheep" {
		t.Errorf("words shown for shee: %v", shown)
	}
	redrawn(t, ctx, "an added word", func() { do(t, ctx, `document.querySelector('#vocab-list button[data-word="sheep"]').click()`) })
	if v := eval[string](t, ctx, `document.getElementById("text-input").value`); !strings.HasSuffix(v, "sheep#2") && !strings.HasSuffix(v, "; sheep") {
		t.Errorf("after adding sheep the scene reads %q", v)
	}

	t.Log("a larger download: 4x the image")
	do(t, ctx, captureSavesJS)
	do(t, ctx, `document.getElementById("scale").value = "4"; document.getElementById("download").click()`)
	waitFor(t, ctx, "a download", `window.saves.length > 0`, 10*time.Second)
	size, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`(async () => { const s = window.saves.pop(); const b = await createImageBitmap(s.blob); return [s.name, b.width, document.getElementById("image").width] })()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(size[1]) != fmt.Sprint(4*size[2].(float64)) || !strings.HasSuffix(size[0].(string), "-4x.png") {
		t.Errorf("download %v, want 4x the %v px image", size, size[2])
	}
}

// editorLayout checks the page at the sizes people use.
func editorLayout(t *testing.T, ctx context.Context) {
	t.Log("graph drawing: no nodes overlap at 12 objects")
	var rels []string
	names := []string{"sky", "grass", "sheep", "tree", "house", "person", "mountain", "cloud", "road", "car", "sea", "boat"}
	for i := range names {
		rels = append(rels, names[i]+" left of "+names[(i+5)%len(names)])
	}
	redrawn(t, ctx, "12 objects", func() { setInput(t, ctx, "#text-input", strings.Join(rels, "; ")) })
	waitFor(t, ctx, "the graph", `document.querySelectorAll("#graph-svg g.obj").length === 12`, 30*time.Second)
	overlaps := eval[int](t, ctx, `(() => { const r = [...document.querySelectorAll("#graph-svg g")].map(g => g.getBBox()); let n = 0;
	  for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {
	    const a = r[i], b = r[j]; if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) n++ }
	  return n })()`)
	if overlaps != 0 {
		t.Errorf("%d pairs of graph nodes overlap at 12 objects", overlaps)
	}
	screenshot(t, ctx, "e2-graph-12")

	do(t, ctx, `const c = document.getElementById("variation-count"); c.value = "4"; c.dispatchEvent(new Event("change"))`)
	redrawn(t, ctx, "the screenshots' scene, from a link followed in the same tab", func() {
		do(t, ctx, `location.hash = "scene=sky+above+grass;+sheep+inside+grass;+tree+right+of+sheep;+cloud+inside+sky&seed=5&pin=2:0.12,0.62,0.42,0.86"`)
	})
	waitFor(t, ctx, "the screenshots' variations", `document.querySelectorAll("#variations button").length === 4 && document.querySelectorAll("#variations .stale").length === 0 && document.querySelectorAll("#layout .box.pinned").length === 1`, 60*time.Second)
	do(t, ctx, `document.activeElement && document.activeElement.blur()`)
	for _, vp := range [][2]int64{{1366, 768}, {1400, 1000}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp[0], vp[1])); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, "window.scrollTo(0, 0)")
		r := eval[[]float64](t, ctx, `(() => { const r = document.getElementById("image").getBoundingClientRect(); return [r.top, r.bottom, r.right, innerHeight, innerWidth] })()`)
		if r[0] < 0 || r[1] > r[3] || r[2] > r[4] {
			t.Errorf("at %dx%d the image spans %v..%v px down (window %v high): not all in view", vp[0], vp[1], r[0], r[1], r[3])
		}
		viewportShot(t, ctx, fmt.Sprintf("app-%dx%d", vp[0], vp[1]))
	}

	t.Log("at 360 px: menus show their words, handles are big enough to touch")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	if w := eval[int](t, ctx, "document.documentElement.scrollWidth"); w > 360 {
		t.Errorf("page is %d px wide at 360 px", w)
	}
	cut := eval[[]string](t, ctx, `(() => { const out = [];
	  for (const s of document.querySelectorAll("#relationships select")) {
	    const probe = document.createElement("span"); probe.style.font = getComputedStyle(s).font; probe.style.whiteSpace = "pre"; probe.style.position = "absolute";
	    probe.textContent = s.options[s.selectedIndex].text; document.body.appendChild(probe);
	    if (probe.getBoundingClientRect().width > s.clientWidth - 28) out.push(probe.textContent + " in " + s.clientWidth + " px");
	    probe.remove() }
	  return out })()`)
	if len(cut) > 0 {
		t.Errorf("relationship menus cut at 360 px: %v", cut)
	}
	small := eval[int](t, ctx, `[...document.querySelectorAll("#layout .handle")].filter(h => { const r = h.getBoundingClientRect(); return r.width < 24 || r.height < 24 }).length`)
	if small > 0 || eval[int](t, ctx, `document.querySelectorAll("#layout .handle").length`) == 0 {
		t.Errorf("%d resize handles smaller than 24 px at 360 px", small)
	}
	do(t, ctx, "window.scrollTo(0, 0)")
	viewportShot(t, ctx, "app-360x740")
	screenshot(t, ctx, "e4-360-whole-page")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1100)); err != nil {
		t.Fatal(err)
	}
}

// viewportShot saves what the window shows (not the whole page).
func viewportShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.MkdirAll(artifacts, 0o755)
	os.WriteFile(filepath.Join(artifacts, name+".png"), buf, 0o644)
}

// editorModels checks the model menu and its messages.
func editorModels(t *testing.T, ctx context.Context) {
	t.Log("a scene file opened as a model gets a plain message; the header still names the model that draws")
	scene := filepath.Join(t.TempDir(), "scene.json")
	os.WriteFile(scene, []byte(`{"objects": ["sky"], "relationships": []}`), 0o644)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#model-file", []string{scene})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "a model error", `document.getElementById("model-error").textContent !== ""`, 30*time.Second)
	msg := eval[string](t, ctx, `document.getElementById("model-error").textContent`)
	if !strings.Contains(msg, "scene file") || strings.Contains(msg, "header needs") {
		t.Errorf("a .json as a model: %q", msg)
	}
	broken := filepath.Join(t.TempDir(), "broken.safetensors")
	os.WriteFile(broken, []byte("this is not a model at all, just some text of some length"), 0o644)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#model-file", []string{broken})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "a failed load", `document.getElementById("model-error").textContent.includes("broken.safetensors")`, 30*time.Second)
	if s := eval[string](t, ctx, `document.getElementById("model-status").textContent`); !strings.HasPrefix(s, "shipped model:") {
		t.Errorf("after a failed load the header says %q, want the shipped model that still draws", s)
	}
	screenshot(t, ctx, "e3-failed-model")
	redrawn(t, ctx, "an edit after the failure", func() { setInput(t, ctx, "#text-input", "sheep inside grass; sky above grass") })
	if m := eval[string](t, ctx, `document.getElementById("model-error").textContent`); m != "" {
		t.Errorf("the failure is still shown after drawing: %q", m)
	}

	t.Log("the model menu shows a loaded file's name")
	pt, _ := filepath.Abs(filepath.Join("..", "testdata", "tiny_masks.legacy.pt"))
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#model-file", []string{pt})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "uploaded model", `document.getElementById("model-status").textContent.startsWith("tiny_masks.legacy.pt")`, 60*time.Second)
	if s := eval[string](t, ctx, `(() => { const s = document.getElementById("model-select"); return s.options[s.selectedIndex].text })()`); s != "tiny_masks.legacy.pt" {
		t.Errorf("model menu shows %q", s)
	}
}

// TestAxe runs axe-core on the app and the widget page: no violations.
func TestAxe(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take minutes; skipped with -short")
	}
	src := axeSource(t)
	ctx := browser(t)
	dir := buildApp(t)
	url, stop := serve(t, dir)
	defer stop()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "first image", drawnJS+` && document.querySelectorAll("#variations button").length > 0`, 90*time.Second)
	checkAxe(t, ctx, src, "/")
	// And with a pinned box, a note and an error on show, at phone width.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740), chromedp.Navigate(url+nested)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the nested scene", drawnJS+` && document.querySelectorAll("#layout .box.pinned").length === 2`, 90*time.Second)
	setInput(t, ctx, "#text-input", "sheep above sheep; grass; qqqzzzx")
	do(t, ctx, `document.getElementById("text-input").blur()`)
	waitFor(t, ctx, "an error and a note", `document.getElementById("objects-error").textContent !== "" && document.getElementById("scene-notes").textContent !== ""`, 30*time.Second)
	checkAxe(t, ctx, src, "/ at 360 px, editing")
	// Tall enough for the three figures that draw without scrolling.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1400), chromedp.Navigate(url+"embed.html")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the first figure", `document.getElementById("first").state === "drawn" && document.getElementById("editable").state === "drawn" && document.getElementById("full").state === "drawn"`, 90*time.Second)
	checkAxe(t, ctx, src, "/embed.html")
}
