# sg2im-go: `make test` is what CI runs.
GO       ?= go
GOROOT   := $(shell $(GO) env GOROOT)
WASMEXEC := $(GOROOT)/lib/wasm/go_js_wasm_exec
# Packages that must also work compiled to WebAssembly.
WASMPKGS := ./nn ./model ./weights
# Each fuzz target runs this long in `make test`; longer runs: make fuzz FUZZTIME=10m
FUZZTIME ?= 10s

.PHONY: all build test check test-native test-wasm fuzz bench clean

all: build

build:
	$(GO) build -o bin/sg2im ./cmd/sg2im

test: check test-native test-wasm fuzz

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

test-native:
	$(GO) test ./...

test-wasm:
	GOOS=js GOARCH=wasm $(GO) test -exec="$(WASMEXEC)" $(WASMPKGS)

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseGraphs$$' -fuzztime $(FUZZTIME) ./model
	$(GO) test -run '^$$' -fuzz '^FuzzReadSafetensors$$' -fuzztime $(FUZZTIME) ./weights
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./weights

# Generator speed at the release's coco64 and vg128 sizes (random weights).
bench:
	$(GO) test -run '^$$' -bench 'Generator' -benchtime 10x ./model

clean:
	rm -rf bin
