package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// markJS is the time of the page's first performance mark of that name,
// in ms after navigation, or -1.
func markJS(name string) string {
	return `(() => { const m = performance.getEntriesByName("` + name + `"); return m.length ? m[0].startTime : -1 })()`
}

// firstImageJS is when the page showed its first image.
var firstImageJS = markJS("sg2im-first-image")

// visit is one navigation's marks: the page's Go code starts, the model
// is ready, the first image shows (ms after navigation).
type visit struct{ start, model, image float64 }

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
	var cold, warm []visit
	for range 5 {
		ctx, quit := newBrowser(t)
		cold = append(cold, firstImageAfterNavigation(t, ctx, url))
		do(t, ctx, swCachedPathsJS)
		waitFor(t, ctx, "the service worker's copy of the app", `window.swCached !== undefined`, 60*time.Second)
		warm = append(warm, firstImageAfterNavigation(t, ctx, url))
		quit()
	}
	logVisits(t, "cold", cold)
	logVisits(t, "warm", warm)
}

// logVisits logs the medians and minima of the visits' marks.
func logVisits(t *testing.T, what string, vs []visit) {
	t.Helper()
	var start, model, image []float64
	for _, v := range vs {
		start, model, image = append(start, v.start), append(model, v.model), append(image, v.image)
	}
	t.Logf("measured: navigation to first image, %s: median %.0f ms, min %.0f ms (%.0f); page code started at %.0f ms, model ready at %.0f ms (medians)",
		what, median(image), slices.Min(image), image, median(start), median(model))
}

// firstImageAfterNavigation loads url afresh and returns the page's marks.
func firstImageAfterNavigation(t *testing.T, ctx context.Context, url string) visit {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "first image", drawnJS+" && ("+firstImageJS+") >= 0", 90*time.Second)
	v := visit{eval[float64](t, ctx, markJS("sg2im-page-start")), eval[float64](t, ctx, markJS("sg2im-model-ready")), eval[float64](t, ctx, firstImageJS)}
	if eval[string](t, ctx, imageHashJS) == "" {
		t.Fatal("the first image is blank")
	}
	if !(v.start >= 0 && v.start <= v.model && v.model <= v.image) {
		t.Errorf("the page's marks are out of order: page start %.0f, model ready %.0f, first image %.0f ms", v.start, v.model, v.image)
	}
	return v
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
