package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// firstImageJS is when the page showed its first image, in ms after
// navigation (the page's "sg2im-first-image" performance mark), or -1.
const firstImageJS = `(() => { const m = performance.getEntriesByName("sg2im-first-image"); return m.length ? m[0].startTime : -1 })()`

// TestFirstImage opens the app five times in a fresh browser profile
// (cold: nothing cached) and then again in the same profile (warm: the
// service worker and the HTTP cache hold the app), and logs the time from
// navigation to the first image, median and minimum. It asserts that the
// page marks its first image, not how fast: speed is measured, not tested.
func TestFirstImage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take minutes; skipped with -short")
	}
	url, stop := serve(t, buildApp(t))
	defer stop()
	var cold, warm []float64
	for range 5 {
		ctx, quit := newBrowser(t)
		cold = append(cold, firstImageAfterNavigation(t, ctx, url))
		do(t, ctx, swCachedPathsJS)
		waitFor(t, ctx, "the service worker's copy of the app", `window.swCached !== undefined`, 60*time.Second)
		warm = append(warm, firstImageAfterNavigation(t, ctx, url))
		quit()
	}
	t.Logf("measured: navigation to first image, cold: median %.0f ms, min %.0f ms (%v)", median(cold), slices.Min(cold), cold)
	t.Logf("measured: navigation to first image, warm: median %.0f ms, min %.0f ms (%v)", median(warm), slices.Min(warm), warm)
}

// firstImageAfterNavigation loads url afresh and returns the page's first
// image mark.
func firstImageAfterNavigation(t *testing.T, ctx context.Context, url string) float64 {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "first image", drawnJS+" && ("+firstImageJS+") >= 0", 90*time.Second)
	ms := eval[float64](t, ctx, firstImageJS)
	if eval[string](t, ctx, imageHashJS) == "" {
		t.Fatal("the first image is blank")
	}
	return ms
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
