package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// variedScene names things the built-in world draws in many ways (cars,
// houses and trees of several colours and kinds, the sky by day or dusk).
const variedScene = "#scene=sky+above+house;+house+left+of+tree;+car+below+house;+road+below+car&seed=1"

// variationsReadyJS holds when all four variations are drawn for the
// current seed (a variation is "stale" until its new seed is drawn).
const variationsReadyJS = `document.querySelectorAll("#variations button canvas").length === 4 &&
  document.querySelectorAll("#variations button.stale").length === 0`

// variationSpreadJS is the mean absolute difference, in [0,1] pixels, over
// the pairs of variation images.
const variationSpreadJS = `(() => {
  const px = [...document.querySelectorAll("#variations button canvas")].map(c => c.getContext("2d").getImageData(0, 0, c.width, c.height).data);
  let sum = 0, pairs = 0;
  for (let i = 0; i < px.length; i++) for (let j = i + 1; j < px.length; j++) {
    if (px[i].length !== px[j].length) return -1;
    let d = 0, n = 0;
    for (let k = 0; k < px[i].length; k++) if (k % 4 !== 3) { d += Math.abs(px[i][k] - px[j][k]); n++; }
    sum += d / n / 255; pairs++;
  }
  return pairs ? sum / pairs : -1;
})()`

// TestVariations draws the variations of a scene with the shipped model,
// saves what the user sees (artifacts/variations.png), and, for a model
// with appearance vectors (its objects have "New look" buttons), checks
// that the variations visibly differ.
func TestVariations(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take minutes; skipped with -short")
	}
	ctx := browser(t)
	dir := buildApp(t)
	url, stop := serve(t, dir)
	defer stop()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768), chromedp.Navigate(url+variedScene)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the scene and its variations", drawnJS+" && "+variationsReadyJS, 90*time.Second)
	spread := eval[float64](t, ctx, variationSpreadJS)
	if spread < 0 {
		t.Fatalf("the variations are not images of one size")
	}
	looks := eval[int](t, ctx, `document.querySelectorAll("#objects .look").length`)
	t.Logf("measured: mean difference between the 4 variations: %.4f ([0,1] pixels); model with appearance vectors: %v", spread, looks > 0)
	do(t, ctx, `document.getElementById("image").parentElement.scrollIntoView({block: "start"})`)
	viewportShot(t, ctx, "variations")
	// Half the shipped model's target for sg2im eval's diversity (0.04 on
	// held-out graphs); the first demo model, which ignores its noise,
	// gives 0.006 there.
	if looks > 0 && spread < 0.02 {
		t.Errorf("the variations differ by %.4f on average, want at least 0.02 for a model with appearance vectors", spread)
	}
}
