package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/weights"
)

// writeLooksModel writes a tiny random model with appearance vectors (and
// no layout noise, so that they alone vary the picture) into dir.
func writeLooksModel(t *testing.T, dir, name string) {
	t.Helper()
	g, err := model.New(model.Config{
		ImageSize: [2]int{32, 32}, EmbeddingDim: 8, GconvDim: 8, GconvHiddenDim: 12, GconvNumLayers: 1,
		GconvPooling: "avg", RefinementDims: []int{8, 4}, Normalization: "batch", Activation: "leakyrelu-0.2",
		MaskSize: 4, MLPNormalization: "none",
		Vocab:         model.NewVocab([]string{"sky", "grass", "sheep"}, []string{"above", "inside"}),
		AppearanceDim: 4, AppearanceScale: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	g.InitRandom(5)
	kwargs, _ := json.Marshal(g.Config)
	var file bytes.Buffer
	if err := (&weights.Checkpoint{ModelKwargs: kwargs, Model: g.State()}).WriteSafetensors(&file); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// looksJS is the address's per-object looks ("" for none).
const looksJS = `new URLSearchParams(location.hash.slice(1)).get("look") || ""`

// TestNewLook: with a model that has per-object appearance, each object's
// "New look" button and the L key on its box redraw that object's look,
// keep the focus, reach the address and the exported file, and undo takes
// them back to the very same picture; the shipped model, without
// appearance vectors, shows no such control.
func TestNewLook(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take minutes; skipped with -short")
	}
	ctx := browser(t)
	dir := buildApp(t)
	writeLooksModel(t, dir, "looks.safetensors")
	url, stop := serve(t, dir)
	defer stop()
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"?model=looks.safetensors#scene=sky+above+grass;+sheep+inside+grass&seed=3")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the model with appearance vectors", `document.getElementById("model-status").textContent.startsWith("looks.safetensors:") && `+drawnJS+
		` && document.querySelectorAll("#objects .look").length === 3`, 90*time.Second)
	before := waitNewImage(t, ctx, "the first picture", "")
	do(t, ctx, captureSavesJS)

	t.Log("New look on the sheep's row: a new picture, the look in the address, the focus kept")
	do(t, ctx, `document.querySelector('[data-key="obj-2-look"]').focus()`)
	if got := eval[string](t, ctx, `document.querySelector('[data-key="obj-2-look"]').getAttribute("aria-label")`); got != "New look for sheep" {
		t.Errorf("the button is labelled %q", got)
	}
	key(t, ctx, kb.Enter)
	rolled := waitNewImage(t, ctx, "the sheep's new look", before)
	look := eval[string](t, ctx, looksJS)
	if !strings.HasPrefix(look, "2:") || strings.Contains(look, ";") {
		t.Errorf("address looks %q, want the sheep's alone", look)
	}
	if f := focused(t, ctx); f != "obj-2-look" {
		t.Errorf("focus on %q after a new look, want the button", f)
	}
	do(t, ctx, `document.getElementById("export-json").click()`)
	if _, body := lastSave(t, ctx); !strings.Contains(body, `"appearance_seeds"`) || !strings.Contains(body, strings.TrimPrefix(look, "2:")) {
		t.Errorf("the exported file lacks the sheep's look:\n%s", body)
	}

	t.Log("undo brings back the very same picture; redo the new look")
	do(t, ctx, `document.getElementById("undo").click()`)
	if got := waitNewImage(t, ctx, "the undone look", rolled); got != before {
		t.Errorf("after undo the picture is %s, want the first one %s", got, before)
	}
	if l := eval[string](t, ctx, looksJS); l != "" {
		t.Errorf("after undo the address still has looks %q", l)
	}
	do(t, ctx, `document.getElementById("redo").click()`)
	if got := waitNewImage(t, ctx, "the redone look", before); got != rolled {
		t.Errorf("after redo the picture is %s, want the new look's %s", got, rolled)
	}

	t.Log("L on the grass's box draws the grass anew, the sheep's look stays")
	do(t, ctx, `document.querySelector('#layout .box[data-i="1"]').focus()`)
	if lbl := eval[string](t, ctx, `document.querySelector('#layout .box[data-i="1"]').getAttribute("aria-label")`); !strings.Contains(lbl, "L draws a new look") {
		t.Errorf("the box's label %q does not tell the key", lbl)
	}
	key(t, ctx, "l")
	waitNewImage(t, ctx, "the grass's new look", rolled)
	if l := eval[string](t, ctx, looksJS); !strings.HasPrefix(l, "1:") || !strings.Contains(l, ";"+look) {
		t.Errorf("address looks %q, want the grass's and %q", l, look)
	}
	if f := focused(t, ctx); f != "box-1" {
		t.Errorf("focus on %q after L, want the box", f)
	}
	checkAxe(t, ctx, axeSource(t), "/ with New look buttons")

	t.Log("the shipped model has no per-object appearance: no New look control")
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"#scene=sky+above+grass&seed=3")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the shipped model", `document.getElementById("model-status").textContent.startsWith("shipped model:") && `+drawnJS+
		` && document.querySelectorAll("#objects li").length === 2`, 90*time.Second)
	if n := eval[int](t, ctx, `document.querySelectorAll("#objects .look").length`); n != 0 {
		t.Errorf("%d New look buttons for a model without appearance vectors", n)
	}
	if lbl := eval[string](t, ctx, `document.querySelector('#layout .box[data-i="0"]').getAttribute("aria-label")`); strings.Contains(lbl, "new look") {
		t.Errorf("the box's label %q offers a new look", lbl)
	}
}
