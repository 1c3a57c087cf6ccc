package ui

// DOM ids of the page, in one place: the browser tests use them too.
const (
	IDApp             = "app"
	IDModelSelect     = "model-select"
	IDModelFile       = "model-file"
	IDModelProgress   = "model-progress"
	IDModelStatus     = "model-status"
	IDTextInput       = "text-input"
	IDTextError       = "text-error"
	IDObjects         = "objects"
	IDObjectsError    = "objects-error"
	IDAddObject       = "add-object"
	IDRelationships   = "relationships"
	IDRelsError       = "relationships-error"
	IDAddRelationship = "add-relationship"
	IDVocabObjects    = "vocab-objects"
	IDGallery         = "gallery"
	IDImportJSON      = "import-json"
	IDExportJSON      = "export-json"
	IDGraphSVG        = "graph-svg"
	IDLayout          = "layout"
	IDLayoutCanvas    = "layout-canvas"
	IDBoxesError      = "boxes-error"
	IDResetBoxes      = "reset-boxes"
	IDImage           = "image"
	IDSmooth          = "smooth"
	IDDownload        = "download"
	IDSeed            = "seed"
	IDNewSeed         = "new-seed"
	IDVariations      = "variations"
	IDStatus          = "status"
	IDEditor          = "editor"
)

// Storage keys of localStorage.
const (
	keyGraph = "sg2im.graph"
	keySeed  = "sg2im.seed"
)
