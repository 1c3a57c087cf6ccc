package ui

// DOM ids of the page, in one place: the browser tests use them too.
const (
	IDApp             = "app"
	IDModelSelect     = "model-select"
	IDModelFile       = "model-file"
	IDModelOpen       = "model-open"
	IDModelProgress   = "model-progress"
	IDModelStatus     = "model-status"
	IDModelError      = "model-error"
	IDTextInput       = "text-input"
	IDTextError       = "text-error"
	IDUndo            = "undo"
	IDRedo            = "redo"
	IDEditNote        = "edit-note"
	IDSceneNotes      = "scene-notes"
	IDObjects         = "objects"
	IDObjectsError    = "objects-error"
	IDAddObject       = "add-object"
	IDRelationships   = "relationships"
	IDRelsError       = "relationships-error"
	IDAddRelationship = "add-relationship"
	IDVocabObjects    = "vocab-objects"
	IDVocabSearch     = "vocab-search"
	IDVocabList       = "vocab-list"
	IDGallery         = "gallery"
	IDImportJSON      = "import-json"
	IDImportButton    = "import-button"
	IDExportJSON      = "export-json"
	IDGraphSVG        = "graph-svg"
	IDLayout          = "layout"
	IDLayoutCanvas    = "layout-canvas"
	IDBoxesError      = "boxes-error"
	IDPins            = "pins"
	IDResetBoxes      = "reset-boxes"
	IDImage           = "image"
	IDSmooth          = "smooth"
	IDScale           = "scale"
	IDDownload        = "download"
	IDSeed            = "seed"
	IDNewSeed         = "new-seed"
	IDVariations      = "variations"
	IDVariationCount  = "variation-count"
	IDStatus          = "status"
	IDEditor          = "editor"
)

// Storage keys of localStorage.
const (
	keySession = "sg2im.session" // Export JSON's format
	keyGraph   = "sg2im.graph"
	keySeed    = "sg2im.seed"
)
