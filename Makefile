# sg2im-go: `make test` is what CI runs.
GO       ?= go
GOROOT   := $(shell $(GO) env GOROOT)
WASMEXEC := $(GOROOT)/lib/wasm/go_js_wasm_exec
# Packages that must also work compiled to WebAssembly.
WASMPKGS := ./nn ./model ./weights ./engine ./protocol ./data
# Each fuzz target runs this long in `make test`; longer runs: make fuzz FUZZTIME=10m
FUZZTIME ?= 10s

.PHONY: all build app run test check test-native test-wasm fuzz bench clean train-demo

# The browser app is built into the server's embedded directory.
DIST  := server/static/dist
ADDR  ?= 127.0.0.1:8080
# The model the app opens with.
SHIPPED_MODEL := weights/shipped/model.safetensors

all: build

build:
	$(GO) build -o bin/sg2im ./cmd/sg2im

# app builds the page, the engine (one wasm binary), the shipped model and
# their precompressed variants into $(DIST).
app:
	mkdir -p $(DIST)
	find $(DIST) -mindepth 1 ! -name README.md -delete
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags=-s -o $(DIST)/app.wasm ./cmd/sg2im-web
	cp web/* $(DIST)/
	cp $(WASMEXEC:go_js_wasm_exec=wasm_exec.js) $(DIST)/wasm_exec.js
	cp $(SHIPPED_MODEL) $(DIST)/model.safetensors
	$(GO) run ./tools/precompress $(DIST)

# run builds the app and serves it (the server prints the URL).
run: app
	$(GO) run ./cmd/sg2im-server --addr $(ADDR)

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
	$(GO) test -run '^$$' -fuzz '^FuzzParseGraphs$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./model
	$(GO) test -run '^$$' -fuzz '^FuzzReadSafetensors$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./weights
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./weights
	$(GO) test -run '^$$' -fuzz '^FuzzParseText$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./model
	$(GO) test -run '^$$' -fuzz '^FuzzFileName$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./server
	$(GO) test -run '^$$' -fuzz '^FuzzAcceptQ$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./server
	$(GO) test -run '^$$' -fuzz '^FuzzRLE$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./data
	$(GO) test -run '^$$' -fuzz '^FuzzSegmentation$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./data
	$(GO) test -run '^$$' -fuzz '^FuzzPolygon$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./data

# Generator speed at the release's coco64 and vg128 sizes (random weights).
bench:
	$(GO) test -run '^$$' -bench 'Generator' -benchtime 10x ./model

# train-demo trains the shipped demo model from scratch on the procedural
# world (about 1.5 s an iteration on a 2-core VM; DEMO_ITERS bounds it) and
# copies the result to $(SHIPPED_MODEL).
DEMO_DIR   ?= runs/demo
DEMO_ITERS ?= 4000
train-demo:
	$(GO) build -o bin/sg2im ./cmd/sg2im
	bin/sg2im train --dataset world --image_size 64,64 --mask_size 16 \
	  --embedding_dim 64 --gconv_dim 64 --gconv_hidden_dim 256 --gconv_num_layers 3 \
	  --refinement_network_dims 256,128,64,32,16 --layout_noise_dim 16 \
	  --d_obj_arch C4-32-2,C4-64-2,C4-128-2 --d_img_arch C4-32-2,C4-64-2,C4-128-2 --crop_size 32 \
	  --batch_size 8 --learning_rate 3e-4 --mask_loss_weight 1 \
	  --checkpoint_every 500 --print_every 50 --num_val_samples 64 --seed 1 --threads 2 \
	  --num_iterations $(DEMO_ITERS) --output_dir $(DEMO_DIR)
	cp $(DEMO_DIR)/checkpoint.safetensors $(SHIPPED_MODEL)

clean:
	rm -rf bin
	find $(DIST) -mindepth 1 ! -name README.md -delete
