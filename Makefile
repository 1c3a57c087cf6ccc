# sg2im-go: `make test` is what CI runs.
GO       ?= go
GOROOT   := $(shell $(GO) env GOROOT)
WASMEXEC := $(GOROOT)/lib/wasm/go_js_wasm_exec
# Go's runner plus the SIMD tile import of the WebAssembly build.
SIMDEXEC := $(CURDIR)/tools/wasmexec/exec
# Packages that must also work compiled to WebAssembly.
WASMPKGS := ./nn ./model ./bench ./weights ./engine ./protocol ./data ./ui
# Each fuzz target runs this many inputs in `make test` (a count, not a
# time, so a loaded machine cannot trip the fuzzer's deadline); longer
# runs: make fuzz FUZZTIME=10m FUZZTIME_SLOW=10m
FUZZTIME ?= 20000x
# The targets whose every input builds networks or a whole data set (the
# training state, the annotation readers) run fewer, so that `make test`
# stays within minutes on two cores.
FUZZTIME_SLOW ?= 2000x

.PHONY: all build app run test check test-native test-wasm test-pytorch fuzz bench bench-train clean train-demo demo-docs

# The browser app is built into the server's embedded directory.
DIST  := server/static/dist
ADDR  ?= 127.0.0.1:8080
# The model the app opens with.
SHIPPED_MODEL := weights/shipped/model.safetensors

all: build

build:
	$(GO) build -o bin/sg2im ./cmd/sg2im

# app builds the page, the engine (one wasm binary, and its variant on a
# shared memory, app-mt.wasm, which cross-origin isolated pages load to run
# the engine on several threads), the shipped model and their
# precompressed variants into $(DIST). The page's model is the
# shipped one stored as float16 without its discriminators (half the
# download; computed in float32 once loaded).
app:
	mkdir -p $(DIST)
	find $(DIST) -mindepth 1 ! -name README.md -delete
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags=-s -o $(DIST)/app.wasm ./cmd/sg2im-web
	$(GO) run ./tools/wasmshared $(DIST)/app.wasm $(DIST)/app-mt.wasm
	cp web/* $(DIST)/
	cp $(WASMEXEC:go_js_wasm_exec=wasm_exec.js) $(DIST)/wasm_exec.js
	$(GO) run ./cmd/sg2im convert --dtype f16 --generator_only $(SHIPPED_MODEL) $(DIST)/model.safetensors
	$(GO) run ./tools/precompress $(DIST)

# run builds the app and serves it (the server prints the URL).
run: app
	$(GO) run ./cmd/sg2im-server --addr $(ADDR)

test: check test-native test-wasm test-pytorch fuzz

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run ./tools/wasmkernel -check

# The AVX2 assembly kernels are the default on amd64; -tags purego runs
# the portable kernels (the ones WebAssembly uses) through the same tests.
test-native:
	$(GO) test ./...
	$(GO) test -tags purego ./nn ./model

# WebAssembly: with the SIMD kernel as the app loads it in Chromium
# (web/kernel-fma.wasm, relaxed SIMD), on one thread and, as in a
# cross-origin isolated page, on a shared memory with 3 helper threads (nn
# and model: the products and the generator); with the plain SIMD kernel
# of browsers without relaxed SIMD (web/kernel.wasm, SG2IM_FMA=0); and the
# portable kernels alone (-tags purego), as on a browser without SIMD.
test-wasm:
	GOOS=js GOARCH=wasm $(GO) test -exec="$(SIMDEXEC)" $(WASMPKGS)
	SG2IM_THREADS=4 GOOS=js GOARCH=wasm $(GO) test -exec="$(SIMDEXEC)" ./nn ./model
	SG2IM_FMA=0 GOOS=js GOARCH=wasm $(GO) test -exec="$(SIMDEXEC)" ./nn ./model
	GOOS=js GOARCH=wasm $(GO) test -tags purego -exec="$(WASMEXEC)" ./nn ./model

# The PyTorch trainer (pytorch/) on Debian's python3-torch: the release's
# reference fixtures (forward and one training step), its error messages,
# then 2 gloo processes
# against 1 and an interrupted run against an uninterrupted one, on world
# shards written by sg2im shards. (The Go side of the parity,
# TestPyTorchParity in cmd/sg2im, runs with test-native.) Skipped, saying
# so, without python3-torch and python3-numpy.
test-pytorch:
	@if ! $(PYTHON) -c 'import torch, numpy' 2>/dev/null; then \
	  echo "test-pytorch: SKIPPED: $(PYTHON) cannot import torch and numpy (apt-get install python3-torch python3-numpy)"; exit 0; fi; \
	set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) pytorch/tests/test_fixtures.py; \
	$(GO) run ./cmd/sg2im shards --dataset world --image_size 32 --mask_size 8 --num_examples 24 \
	  --shard_size 8 --draws 2 --seed 3 --out "$$tmp/shards" >/dev/null 2>&1; \
	$(PYTHON) pytorch/tests/test_errors.py "$$tmp/shards" "$$tmp/errors"; \
	$(PYTHON) pytorch/tests/test_ddp.py "$$tmp/shards" "$$tmp/work"

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseGraphs$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./model
	$(GO) test -run '^$$' -fuzz '^FuzzReadSafetensors$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./weights
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./weights
	$(GO) test -run '^$$' -fuzz '^FuzzParseText$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./model
	$(GO) test -run '^$$' -fuzz '^FuzzParseScenes$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./model
	$(GO) test -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./model
	$(GO) test -run '^$$' -fuzz '^FuzzFileName$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./server
	$(GO) test -run '^$$' -fuzz '^FuzzAcceptQ$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./server
	$(GO) test -run '^$$' -fuzz '^FuzzRLE$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./data
	$(GO) test -run '^$$' -fuzz '^FuzzSegmentation$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./data
	$(GO) test -run '^$$' -fuzz '^FuzzPolygon$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./data
	$(GO) test -run '^$$' -fuzz '^FuzzCOCO$$' -fuzztime $(FUZZTIME_SLOW) -fuzzminimizetime 5s ./data
	$(GO) test -run '^$$' -fuzz '^FuzzVG$$' -fuzztime $(FUZZTIME_SLOW) -fuzzminimizetime 5s ./data
	$(GO) test -run '^$$' -fuzz '^FuzzParseDConfig$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./model
	$(GO) test -run '^$$' -fuzz '^FuzzFromCheckpoint$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./model
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRequest$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine
	$(GO) test -run '^$$' -fuzz '^FuzzReadState$$' -fuzztime $(FUZZTIME_SLOW) -fuzzminimizetime 5s ./train
	$(GO) test -run '^$$' -fuzz '^FuzzParseFragment$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./ui
	$(GO) test -run '^$$' -fuzz '^FuzzParseSession$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./ui

# Generator speed at the release's coco64 and vg128 sizes (random weights,
# batch of one, BENCH_THREADS threads), each beside PyTorch's time for the
# same network and graph (TORCH_ANCHOR, see ../shared/bench/README.md)
# measured in the same run: medians (and minima) in ms, ratio of medians.
PYTHON        ?= /usr/bin/python3
TORCH_ANCHOR  ?= ../shared/bench/torch_anchor.py
BENCH_THREADS ?= 2
BENCH_REPS    ?= 9
bench: build
	@printf '%-7s %18s %18s %6s\n' config 'ours (min)' 'torch (min)' ratio; \
	for c in coco64 vg128; do \
	  o=$$(bin/sg2im bench --config $$c --threads $(BENCH_THREADS) --reps $(BENCH_REPS) | tail -1); \
	  t=$$($(PYTHON) $(TORCH_ANCHOR) time --config $$c --threads $(BENCH_THREADS) --reps $(BENCH_REPS) 2>/dev/null | tail -1); \
	  echo "$$o $$t" | awk -v c=$$c '{ \
	    for (i = 1; i <= NF; i++) { split($$i, kv, "="); v[(i <= 2 ? "o" : "t") kv[1]] = kv[2] } \
	    if (v["tmedian_ms"] == "") { printf "%-7s %9.1f (%6.1f) %18s %6s\n", c, v["omedian_ms"], v["omin_ms"], "n/a", "" } \
	    else { printf "%-7s %9.1f (%6.1f) %9.1f (%6.1f) %6.2f\n", c, v["omedian_ms"], v["omin_ms"], v["tmedian_ms"], v["tmin_ms"], v["omedian_ms"] / v["tmedian_ms"] } }'; \
	done

# One training iteration (generator and both discriminators, forward,
# backward, three Adam steps; batch 8, 64x64) at the release's widths, at
# a quarter of them and in the demo model's configuration (train-demo's
# flags, appearance vectors, sigmoid boxes and instance embeddings
# included; BENCH_TRAIN_CONFIGS="... demo1" adds the first demo recipe's):
# the Go benchmark (train/bench_test.go) beside bench/train_step.py,
# the same networks in PyTorch, in the same run, each after one warm-up
# step. Medians (minima) in ms; speed is torch's median over ours (1.00: as
# fast as PyTorch); peak MiB is each process's peak resident memory
# (ours/torch); params must read "same". The load average is printed
# before and after.
BENCH_TRAIN_REPS ?= 5
BENCH_TRAIN_CONFIGS ?= release quarter demo
bench-train:
	@uptime; printf '%-8s %18s %18s %6s %11s  %s\n' config 'ours (min)' 'torch (min)' speed 'peak MiB' params; \
	for c in $(BENCH_TRAIN_CONFIGS); do \
	  case $$c in release) b='^BenchmarkTrainStep_B8_64x64$$';; quarter) b='^BenchmarkTrainStep_B8_64x64_Quarter$$';; \
	    demo1) b='^BenchmarkTrainStep_B8_64x64_Demo1$$';; *) b='^BenchmarkTrainStep_B8_64x64_Demo$$';; esac; \
	  o=$$($(GO) test ./train -run '^$$' -bench "$$b" -benchtime $(BENCH_TRAIN_REPS)x -cpu $(BENCH_THREADS) 2>&1); \
	  t=$$($(PYTHON) bench/train_step.py --config $$c --threads $(BENCH_THREADS) --reps $(BENCH_TRAIN_REPS) 2>&1); \
	  { echo "$$o" | sed 's/^/ours /'; echo "$$t" | sed 's/^/torch /'; } | awk -v c=$$c ' \
	    $$1 == "ours" && $$2 ~ /^Benchmark/ { for (i = 3; i <= NF; i++) { if ($$i == "median-ms") om = $$(i-1); if ($$i == "min-ms") on = $$(i-1); if ($$i == "peak-MiB") orss = $$(i-1) } } \
	    $$1 == "torch" && $$2 ~ /^median_ms=/ { split($$2, a, "="); tm = a[2]; split($$3, a, "="); tn = a[2]; split($$4, a, "="); trss = a[2] } \
	    /params: / { s = $$0; sub(/.*params: /, "", s); par[$$1] = s } \
	    { out[$$1] = out[$$1] "\n" $$0 } \
	    END { \
	      p = (par["ours"] != "" && par["ours"] == par["torch"]) ? "same: " par["ours"] : "MISMATCH: ours " par["ours"] ", torch " par["torch"]; \
	      rss = sprintf("%5.0f/%-5s", orss, (trss == "" ? "n/a" : trss)); \
	      if (om == "") { printf "%-8s ours failed:%s\n", c, out["ours"]; exit } \
	      if (tm == "") printf "%-8s %9.0f (%6.0f) %18s %6s %11s  %s%s\n", c, om, on, "n/a", "", rss, p, out["torch"]; \
	      else printf "%-8s %9.0f (%6.0f) %9.0f (%6.0f) %6.2f %11s  %s\n", c, om, on, tm, tn, tm / om, rss, p }'; \
	done; uptime

# The generator in headless Chromium: `make app`, then web/bench.html for
# each of BENCH_WEB_CONFIGS (warm-up BENCH_WEB_WARMUP s, BENCH_WEB_REPS
# timed passes, per-layer GFLOP/s), then onnxruntime-web on coco64 with 1
# and 2 threads (../shared/bench/ortweb/run.sh; its work directory
# ORTWEB_DIR keeps npm packages and the exported ONNX models, ~5 min on
# first use), and the ratio of our coco64 median to ORT-web's best.
# Results also go to artifacts/e2e/bench-web.json.
.PHONY: bench-web
BENCH_WEB_CONFIGS ?= coco64,shipped
BENCH_WEB_WARMUP  ?= 20
BENCH_WEB_REPS    ?= 15
ORTWEB            ?= $(CURDIR)/../shared/bench/ortweb/run.sh
ORTWEB_DIR        ?= $(or $(TMPDIR),/tmp)/ortweb-anchor
bench-web: app
	$(GO) test ./e2e -run '^TestBrowserBench$$' -count=1 -v -timeout 60m -args -bench-web \
	  -bench-dist $(CURDIR)/$(DIST) -bench-configs $(BENCH_WEB_CONFIGS) \
	  -bench-warmup $(BENCH_WEB_WARMUP) -bench-reps $(BENCH_WEB_REPS) \
	  -ortweb '$(ORTWEB)' -ortweb-dir $(ORTWEB_DIR)

# train-demo trains the shipped demo model from scratch on the procedural
# world and writes its generator (no discriminators: the file the app and
# the widget download) to $(SHIPPED_MODEL) once it reaches DEMO_ITERS.
# It runs in stages: stop it with SIGINT (Ctrl-C, or kill -INT on the
# sg2im process), which finishes the iteration and writes a checkpoint;
# `make train-demo` again resumes from $(DEMO_DIR)/checkpoint.state.safetensors,
# bit-identical to an uninterrupted run (the only file a later session
# needs: commit it between sessions). A checkpoint every 200 iterations
# bounds what a crash loses. About 1.4 s an iteration on an unloaded
# 2-core VM.
# The recipe beyond the first demo model (weights/shipped before issue 12):
# per-object appearance vectors (8 wide, KL weight 0.01), sigmoid boxes,
# instance embeddings, a narrower generator (gconv_hidden_dim 128,
# refinement 128,128,...: 1.36M parameters, 5.4 MB in f32) and more
# iterations.
DEMO_DIR   ?= runs/demo2
DEMO_ITERS ?= 16000
train-demo: SHELL := /bin/bash
train-demo: .SHELLFLAGS := -o pipefail -c
train-demo:
	$(GO) build -o bin/sg2im ./cmd/sg2im
	mkdir -p $(DEMO_DIR)
	bin/sg2im train --dataset world --image_size 64,64 --mask_size 16 \
	  --embedding_dim 64 --gconv_dim 64 --gconv_hidden_dim 128 --gconv_num_layers 3 \
	  --refinement_network_dims 128,128,64,32,16 --layout_noise_dim 16 \
	  --appearance_dim 8 --appearance_kl_weight 0.01 --box_sigmoid --instance_embeddings 4 \
	  --d_obj_arch C4-32-2,C4-64-2,C4-128-2 --d_img_arch C4-32-2,C4-64-2,C4-128-2 --crop_size 32 \
	  --batch_size 8 --learning_rate 3e-4 --mask_loss_weight 1 --box_bias_init 0.25,0.25,0.75,0.75 \
	  --checkpoint_every 200 --print_every 50 --num_val_samples 64 --seed 1 --threads 2 \
	  --num_iterations $(DEMO_ITERS) --output_dir $(DEMO_DIR) --restore_from_checkpoint 1 \
	  2>&1 | tee -i -a $(DEMO_DIR)/train.log
	@if tail -n 4 $(DEMO_DIR)/train.log | grep -Eq '^(Done: t = $(DEMO_ITERS),|Already at t = $(DEMO_ITERS) of)'; then \
	  bin/sg2im convert --generator_only $(DEMO_DIR)/checkpoint.safetensors $(SHIPPED_MODEL); \
	else \
	  echo "train-demo: stopped before $(DEMO_ITERS) iterations; run make train-demo again to resume"; \
	fi

# demo-docs regenerates docs/demo/ from the finished run: the shipped
# model's eval (text, JSON, sheet of held-out graphs) on DEMO_EVAL_SEED,
# beside the first demo model's (weights/shipped at DEMO_BASELINE) measured
# by the same code, and the run's logs, loss curves and last sample sheet.
# Tune on seed 7 (docs/demo/recipe2.md); report on another.
DEMO_EVAL_SEED ?= 0
DEMO_BASELINE  ?= f28e23e
demo-docs: build
	git show $(DEMO_BASELINE):$(SHIPPED_MODEL) > $(DEMO_DIR)/first-demo-model.safetensors
	bin/sg2im eval --model $(DEMO_DIR)/first-demo-model.safetensors --n 500 --seed $(DEMO_EVAL_SEED) > docs/demo/eval-first.txt
	bin/sg2im eval --model $(SHIPPED_MODEL) --n 500 --seed $(DEMO_EVAL_SEED) --sheet docs/demo/sheet.png > docs/demo/eval.txt
	bin/sg2im eval --model $(SHIPPED_MODEL) --n 500 --seed $(DEMO_EVAL_SEED) --json > docs/demo/eval.json
	cp $(DEMO_DIR)/losses.jsonl $(DEMO_DIR)/val.jsonl $(DEMO_DIR)/losses.png $(DEMO_DIR)/train.log docs/demo/
	cp "$$(ls $(DEMO_DIR)/samples/*.png | tail -n 1)" docs/demo/samples.png

