// Package protocol defines the messages between a page (the app or the
// widget) and the generator engine running in a Web Worker. Messages are
// JSON; model bytes travel beside them as a transferable Uint8Array.
package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sg2im-go/sg2im/bench"
	"github.com/sg2im-go/sg2im/model"
)

// Version is carried by every message; an engine refuses other versions
// so a stale cached worker fails loudly instead of misreading requests.
const Version = 1

// Request kinds.
const (
	KindLoad     = "load"
	KindGenerate = "generate"
	KindBench    = "bench" // answered by a response of kind bench
)

// Response kinds.
const (
	KindReady    = "ready" // the engine started and takes requests
	KindProgress = "progress"
	KindLoaded   = "loaded"
	KindImages   = "images"
	KindError    = "error"
	// KindCancelled answers a replaceable request skipped for a newer one.
	KindCancelled = "cancelled"
)

// Request is a message to the engine.
type Request struct {
	V        int              `json:"v"`
	ID       int              `json:"id"`
	Kind     string           `json:"kind"`
	Load     *LoadRequest     `json:"load,omitempty"`
	Generate *GenerateRequest `json:"generate,omitempty"`
	Bench    *BenchRequest    `json:"bench,omitempty"`
}

// LoadRequest loads a model from a URL, or, when URL is empty, from the
// file sent beside the message: a Blob (or File) as "blob", which the
// engine reads a range at a time, or an ArrayBuffer or Uint8Array as
// "bytes".
type LoadRequest struct {
	URL  string `json:"url,omitempty"`
	Name string `json:"name"` // shown to the user
}

// GenerateRequest draws Count images of one graph with seeds Seed,
// Seed+1, ... (Count 0 means 1).
type GenerateRequest struct {
	Graph model.SceneGraph `json:"graph"`
	// Text, used when Graph has no objects, is the graph in the one-line
	// syntax ("sheep inside grass; sky above grass"), parsed with the
	// loaded model's predicates. Optional, so Version stays 1.
	Text  string `json:"text,omitempty"`
	Seed  uint64 `json:"seed"`
	Count int    `json:"count,omitempty"`
	// Boxes, when set, replace the predicted boxes: one (x0, y0, x1, y1)
	// per object of Graph, in [0, 1].
	Boxes [][4]float32 `json:"boxes,omitempty"`
	// Pinned, when set with Boxes, says which of them replace predictions
	// (true) and which objects keep their predicted box (false): an
	// editor's pinned boxes. One per object. Optional, so Version stays 1.
	Pinned []bool `json:"pinned,omitempty"`
	// AppearanceSeeds, for a model with appearance vectors
	// (ModelInfo.AppearanceDim > 0), give objects a look of their own: one
	// entry per object of Graph, null for the look the image's seed draws,
	// a number for the object's own (model.ObjectAppearance), the same in
	// every image of the request. Optional, so Version stays 1.
	AppearanceSeeds []*uint64 `json:"appearance_seeds,omitempty"`
	// Replaceable marks a request that a newer replaceable generate request
	// makes stale: the engine skips it if that one is already waiting,
	// answering with kind "cancelled". Optional, so Version stays 1.
	Replaceable bool `json:"replaceable,omitempty"`
}

// MaxCount bounds the images of one request.
const MaxCount = 16

// BenchRequest times the generator as `sg2im bench` does: a named
// configuration (BenchLoaded or one of bench.Configs: the release's
// architecture with random weights) on torch_anchor.py's 6-object graph,
// one image a pass. The engine runs passes for WarmupS seconds untimed,
// then Reps timed passes, profiling each layer type over the timed ones.
type BenchRequest struct {
	Config  string  `json:"config"`
	WarmupS float64 `json:"warmup_s"`
	Reps    int     `json:"reps"`
}

// BenchLoaded as a BenchRequest's Config times the loaded model.
const BenchLoaded = "loaded"

// Bounds of a BenchRequest.
const (
	MaxBenchReps    = 1000
	MaxBenchWarmupS = 600
)

// BenchResult is the answer to a BenchRequest. Times are in ms per pass
// (one image).
type BenchResult struct {
	Config    string `json:"config"`
	Model     string `json:"model"` // the loaded model's name, or Config
	ImageSize [2]int `json:"image_size"`
	Params    int    `json:"params"`
	Objects   int    `json:"objects"` // the graph's, without __image__
	Gemm      string `json:"gemm"`    // the matrix-product kernel in use
	// Threads is the most threads a product of the timed passes used (the
	// WebAssembly engine: 1, or more with helper workers).
	Threads int     `json:"threads"`
	WarmupS float64 `json:"warmup_s"`
	// WarmupPasses counts the untimed passes run in WarmupS seconds.
	WarmupPasses int       `json:"warmup_passes"`
	TimesMs      []float64 `json:"times_ms"` // each timed pass, in order
	MedianMs     float64   `json:"median_ms"`
	MinMs        float64   `json:"min_ms"`
	// Layers are the timed passes' means per layer type; their Ms add up
	// to ProfileMs, the mean pass as the profiler saw it.
	Layers    []bench.LayerStat `json:"layers"`
	ProfileMs float64           `json:"profile_ms"`
	GFLOP     float64           `json:"gflop"` // products of one pass
}

// Response is a message from the engine. ID echoes the request's.
type Response struct {
	V        int          `json:"v"`
	ID       int          `json:"id"`
	Kind     string       `json:"kind"`
	Progress *Progress    `json:"progress,omitempty"`
	Loaded   *ModelInfo   `json:"loaded,omitempty"`
	Images   *ImagesInfo  `json:"images,omitempty"`
	Bench    *BenchResult `json:"bench,omitempty"`
	Error    string       `json:"error,omitempty"`
	// Field names the request field at fault, for inline display
	// ("objects", "relationships", "text", "boxes", "appearance_seeds",
	// "model"); empty when unknown. Any fault in a graph given as Text is "text".
	Field string `json:"field,omitempty"`
	// Index, when set, is the object or relationship at fault within
	// Field ("objects" or "relationships"), counted from 0.
	Index *int `json:"index,omitempty"`
}

// Progress reports a download: Total is 0 when the size is unknown. For
// a bench request Phase says what is counted: "warmup" (ms of Total ms)
// or "reps" (passes of Total); empty for a download.
type Progress struct {
	Loaded int64  `json:"loaded"`
	Total  int64  `json:"total"`
	Phase  string `json:"phase,omitempty"`
}

// ModelInfo describes a loaded model.
type ModelInfo struct {
	Name       string   `json:"name"`
	Format     string   `json:"format"`
	Objects    []string `json:"objects"`
	Predicates []string `json:"predicates"`
	ImageSize  [2]int   `json:"image_size"` // H, W
	MaskSize   int      `json:"mask_size"`
	Params     int      `json:"params"`
	// AppearanceDim > 0 says the model gives each object an appearance
	// vector, so that one object's look can be drawn anew.
	AppearanceDim int      `json:"appearance_dim,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
}

// ImagesInfo holds generated images and the layout they were drawn from.
type ImagesInfo struct {
	// Graph is the graph drawn: the request's, or the one parsed from its
	// Text (the widget draws it without a parser of its own).
	Graph  model.SceneGraph `json:"graph"`
	Width  int              `json:"width"`
	Height int              `json:"height"`
	Seeds  []uint64         `json:"seeds"`
	// RGBA holds one Width*Height*4 byte image per seed.
	RGBA [][]byte `json:"rgba"`
	// Boxes are the layout's boxes of the graph's objects (the first image's:
	// every image shares them), predicted or given.
	Boxes [][4]float32 `json:"boxes"`
	// Masks are M*M values per object, nil without masks.
	Masks    [][]float32 `json:"masks,omitempty"`
	MaskSize int         `json:"mask_size"`
	// Timings in milliseconds per stage.
	Timings map[string]float64 `json:"timings"`
	// Threads is the most threads one of the drawing's matrix products
	// used: 1, or more when the engine has helper workers (a cross-origin
	// isolated page). Optional, so Version stays 1.
	Threads int `json:"threads,omitempty"`
}

// DecodeRequest parses and checks a request.
func DecodeRequest(data []byte) (*Request, error) {
	var r Request
	if err := json.Unmarshal(data, &r); err != nil {
		if isGraphError(err) {
			// The rest of the request was read, its ID included, so the
			// page learns which of its requests had a malformed graph.
			return &r, fmt.Errorf("graph: %w", model.GraphJSONError(err))
		}
		return nil, fmt.Errorf("protocol: bad request: %v", err)
	}
	if r.V != Version {
		return &r, fmt.Errorf("protocol: request version %d, engine speaks %d (reload the page to update the app)", r.V, Version)
	}
	switch r.Kind {
	case KindLoad:
		if r.Load == nil {
			return &r, fmt.Errorf("protocol: load request without a load field")
		}
	case KindGenerate:
		if r.Generate == nil {
			return &r, fmt.Errorf("protocol: generate request without a generate field")
		}
		if c := r.Generate.Count; c < 0 || c > MaxCount {
			return &r, fmt.Errorf("protocol: count %d, want 1 to %d", c, MaxCount)
		}
	case KindBench:
		b := r.Bench
		if b == nil {
			return &r, fmt.Errorf("protocol: bench request without a bench field")
		}
		if b.Config != BenchLoaded && !bench.IsConfig(b.Config) {
			return &r, fmt.Errorf("protocol: bench config %q, want %q or one of %v", b.Config, BenchLoaded, bench.Configs())
		}
		if b.Reps < 1 || b.Reps > MaxBenchReps {
			return &r, fmt.Errorf("protocol: bench reps %d, want 1 to %d", b.Reps, MaxBenchReps)
		}
		if !(b.WarmupS >= 0 && b.WarmupS <= MaxBenchWarmupS) {
			return &r, fmt.Errorf("protocol: bench warmup_s %v, want 0 to %d", b.WarmupS, MaxBenchWarmupS)
		}
	default:
		return &r, fmt.Errorf("protocol: unknown request kind %q", r.Kind)
	}
	return &r, nil
}

// isGraphError tells whether a decoding error is about the generate
// request's graph, which a user may have written (the widget's graph
// attribute).
func isGraphError(err error) bool {
	var ge *model.GraphError
	var te *json.UnmarshalTypeError
	if errors.As(err, &ge) {
		return true
	}
	return errors.As(err, &te) && (te.Field == "generate.graph" || strings.HasPrefix(te.Field, "generate.graph."))
}

// Encode marshals a message; it cannot fail for these types.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("protocol: " + err.Error())
	}
	return b
}
