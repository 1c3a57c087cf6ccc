//go:build js && wasm

package ui

import (
	"fmt"
	"path"
	"strings"
	"syscall/js"

	"github.com/sg2im-go/sg2im/internal/jsutil"
	"github.com/sg2im-go/sg2im/protocol"
)

// The "Offline storage" panel. The service worker (web/sw.js) keeps the
// app and the shipped model, nothing else; a model of the user's own is
// kept only when the user asks, here, in its own cache. The panel says how
// much is stored and lets the user open, remove or clear it.

// Cache names shared with web/sw.js.
const (
	appCache   = "sg2im-v4"
	keptCache  = "sg2im-kept"
	keptPrefix = "kept/"
)

// DOM ids of the panel.
const (
	IDStorage      = "storage"
	IDStorageUsage = "storage-usage"
	IDKeptModels   = "kept-models"
	IDKeepModel    = "keep-model"
	IDClearStorage = "clear-storage"
)

type storage struct {
	a       *App
	h, rowH handlers
	// picked is the model file chosen last; it can be kept once loaded.
	picked js.Value
	// loadingURL is the URL of the model being loaded, "" for a file's
	// bytes; currentURL is that of the loaded model.
	loadingURL, currentURL string
	current                string          // the loaded model's name
	kept                   map[string]bool // kept files by name, kept URLs by URL
}

// loading notes where the model being loaded comes from.
func (s *storage) loading(req protocol.LoadRequest) { s.loadingURL = req.URL }

// newStorage adds the panel to the page; without the Cache API (a page
// not served over HTTPS or localhost) there is none, and its methods do
// nothing.
func newStorage(a *App) *storage {
	s := &storage{a: a, kept: map[string]bool{}}
	if !js.Global().Get("caches").Truthy() {
		return s
	}
	keep := el("button", attrs{"id": IDKeepModel, "type": "button"}, "Keep this model on this device")
	// The style sheet displays every button, hidden or not: the wrapper
	// is what hides.
	keepWrap := el("span", attrs{"id": IDKeepModel + "-wrap", "hidden": ""}, keep)
	clear := el("button", attrs{"id": IDClearStorage, "type": "button"}, "Remove all stored files")
	panel := el("section", attrs{"id": IDStorage, "class": "panel", "aria-labelledby": "storage-title"},
		el("h2", attrs{"id": "storage-title"}, "Offline storage"),
		el("p", attrs{"id": IDStorageUsage, "class": "hint", "role": "status"}, "Counting…"),
		el("ul", attrs{"id": IDKeptModels, "class": "rows", "aria-label": "Kept models"}),
		el("div", attrs{"class": "row"}, keepWrap, clear))
	parent := document.Call("querySelector", "main")
	if !parent.Truthy() {
		parent = byID(IDApp)
	}
	parent.Call("appendChild", panel)
	s.h.on(keep, "click", func(js.Value) { s.keepPicked() })
	s.h.on(clear, "click", func(js.Value) { s.clearAll() })
	s.refresh()
	// The service worker installs after the first model load (web/main.js):
	// count again once it has stored the app.
	if sw := js.Global().Get("navigator").Get("serviceWorker"); sw.Truthy() {
		go guard(func() {
			if _, err := jsutil.Await(sw.Get("ready")); err == nil {
				s.refresh()
			}
		})
	}
	return s
}

func (s *storage) enabled() bool { return byID(IDStorage).Truthy() }

// modelLoaded notes the engine's new model; the keep button offers a
// picked file that is not kept yet.
func (s *storage) modelLoaded(name string) {
	s.current, s.currentURL = name, s.loadingURL
	if s.enabled() {
		s.showKeep()
	}
}

func (s *storage) showKeep() {
	var offer bool
	switch s.currentURL {
	case "":
		offer = s.picked.Truthy() && s.picked.Get("name").String() == s.current && !s.kept[s.current]
	case shippedModel: // kept by the service worker
	default: // a ?model= address
		offer = !s.kept[s.absolute(s.currentURL)]
	}
	byID(IDKeepModel+"-wrap").Set("hidden", !offer)
}

// absolute resolves a URL against the page's.
func (s *storage) absolute(url string) string {
	return js.Global().Get("URL").New(url, document.Get("baseURI")).Get("href").String()
}

// keepURL stores the model of a ?model= address in the kept cache under
// its own URL, where the service worker finds it offline.
func (s *storage) keepURL(url string) {
	go guard(func() {
		c, err := jsutil.Await(js.Global().Get("caches").Call("open", keptCache))
		if err == nil {
			_, err = jsutil.Await(c.Call("add", url))
		}
		if err != nil {
			setText(byID(IDStorageUsage), "Could not keep "+url+": "+err.Error())
			return
		}
		s.refresh()
	})
}

// keepPicked stores the loaded model in the kept cache: a picked file under
// kept/ and its name, a model of an address under that address.
func (s *storage) keepPicked() {
	if s.currentURL != "" && s.currentURL != shippedModel {
		s.keepURL(s.currentURL)
		return
	}
	f, name := s.picked, s.current
	if !f.Truthy() || f.Get("name").String() != name {
		return
	}
	go guard(func() {
		c, err := jsutil.Await(js.Global().Get("caches").Call("open", keptCache))
		if err == nil {
			hdr := js.ValueOf(map[string]any{"Content-Type": "application/octet-stream"})
			resp := js.Global().Get("Response").New(f, js.ValueOf(map[string]any{"headers": hdr}))
			_, err = jsutil.Await(c.Call("put", keptURL(name), resp))
		}
		if err != nil {
			setText(byID(IDStorageUsage), "Could not keep "+name+": "+err.Error()+" (the browser may allow this site no more space).")
			return
		}
		s.refresh()
	})
}

// keptURL is where a kept model lives in its cache.
func keptURL(name string) string {
	return keptPrefix + js.Global().Call("encodeURIComponent", name).String()
}

// refresh recounts what is stored and redraws the panel.
func (s *storage) refresh() {
	go guard(func() {
		appBytes, _, err := cacheContents(appCache)
		if err != nil {
			setText(byID(IDStorageUsage), "Could not read the offline storage: "+err.Error())
			return
		}
		keptBytes, names, err := cacheContents(keptCache)
		if err != nil {
			setText(byID(IDStorageUsage), "Could not read the offline storage: "+err.Error())
			return
		}
		s.render(appBytes, keptBytes, names)
	})
}

func (s *storage) render(appBytes, keptBytes int64, names map[string]int64) {
	msg := "Nothing is stored for offline use; the app will be on your next visit."
	if appBytes > 0 {
		msg = fmt.Sprintf("Stored for offline use: the app and its model, %s.", megabytes(appBytes))
	}
	if len(names) > 0 {
		msg += fmt.Sprintf(" Models you kept: %d, %s.", len(names), megabytes(keptBytes))
	} else {
		msg += " No models of yours are kept."
	}
	setText(byID(IDStorageUsage), msg)
	list := byID(IDKeptModels)
	s.rowH.release()
	clearNode(list)
	s.kept = map[string]bool{}
	// The page's address may carry a scene in its fragment: resolve, not
	// cut, to find where kept models live.
	keptBase := js.Global().Get("URL").New(keptPrefix, document.Get("baseURI")).Get("href").String()
	for url, size := range names {
		name, key := url, url // a model of an address: kept under it
		file, isFile := strings.CutPrefix(url, keptBase)
		if isFile {
			name = js.Global().Call("decodeURIComponent", file).String()
			key = name
		}
		s.kept[key] = true
		open := el("button", attrs{"type": "button", "aria-label": "Open " + name}, "Open")
		remove := el("button", attrs{"type": "button", "aria-label": "Remove " + name}, "Remove")
		list.Call("appendChild", el("li", nil, el("span", nil, name+" ("+megabytes(size)+")"), open, remove))
		s.rowH.on(open, "click", func(js.Value) {
			if isFile {
				s.openKept(name)
			} else {
				s.a.loadURL(url, path.Base(url))
			}
		})
		s.rowH.on(remove, "click", func(js.Value) { s.removeKept(url) })
	}
	s.showKeep()
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// cacheContents sums the bodies of a cache's entries, and returns each
// entry's size by its URL.
func cacheContents(name string) (int64, map[string]int64, error) {
	c, err := jsutil.Await(js.Global().Get("caches").Call("open", name))
	if err != nil {
		return 0, nil, err
	}
	keys, err := jsutil.Await(c.Call("keys"))
	if err != nil {
		return 0, nil, err
	}
	var total int64
	sizes := map[string]int64{}
	for i := 0; i < keys.Length(); i++ {
		resp, err := jsutil.Await(c.Call("match", keys.Index(i)))
		if err != nil || !resp.Truthy() {
			continue
		}
		blob, err := jsutil.Await(resp.Call("blob"))
		if err != nil {
			continue
		}
		n := int64(blob.Get("size").Float())
		total += n
		sizes[keys.Index(i).Get("url").String()] = n
	}
	return total, sizes, nil
}

// openKept loads a kept model into the engine.
func (s *storage) openKept(name string) {
	go guard(func() {
		resp, err := jsutil.Await(js.Global().Get("caches").Call("match", keptURL(name), js.ValueOf(map[string]any{"cacheName": keptCache})))
		if err != nil || !resp.Truthy() {
			setText(byID(IDStorageUsage), name+" is no longer stored; pick the file again.")
			s.refresh()
			return
		}
		blob, err := jsutil.Await(resp.Call("blob"))
		if err != nil {
			setText(byID(IDStorageUsage), "Could not read "+name+": "+err.Error())
			return
		}
		s.picked = js.Null()
		s.a.loadModel(protocol.LoadRequest{Name: name}, blob)
	})
}

// removeKept deletes the kept entry at url.
func (s *storage) removeKept(url string) {
	go guard(func() {
		if c, err := jsutil.Await(js.Global().Get("caches").Call("open", keptCache)); err == nil {
			jsutil.Await(c.Call("delete", url))
		}
		s.refresh()
	})
}

// clearAll removes every stored file and the service worker: the app is
// stored again on the next visit.
func (s *storage) clearAll() {
	go guard(func() {
		for _, name := range []string{appCache, keptCache} {
			jsutil.Await(js.Global().Get("caches").Call("delete", name))
		}
		if sw := js.Global().Get("navigator").Get("serviceWorker"); sw.Truthy() {
			if reg, err := jsutil.Await(sw.Call("getRegistration")); err == nil && reg.Truthy() {
				jsutil.Await(reg.Call("unregister"))
			}
		}
		s.refresh()
	})
}
