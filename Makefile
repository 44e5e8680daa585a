# NeuralTopology build. The two commands a new machine needs:
#   make run    install system packages, build, and run the main job
#   make test   install system packages, build, and run every test
# Everything lands in ./bin: nthost and the plugins nt-<kind>-<name>.

GO      ?= go
BIN     := bin
MODULE  := github.com/neuraltopology/neuraltopology
# Debian packages the build, the plugins and the tests need.
DEB_PKGS := libmujoco-dev libmujoco-samples libosmesa6-dev ripser \
            python3 python3-numpy python3-gudhi python3-grpcio python3-protobuf \
            python3-pot python3-sklearn python3-scipy python3-cryptography \
            python3-pandas python3-yaml python3-pip python3-setuptools python3-venv \
            protobuf-compiler libopenblas-dev time slurm-wlm munge \
            libhdf5-dev python3-h5py
GO_PLUGINS := env-mujoco algo-ppo algo-mlp data-naitzat dist-euclid dist-geodesic ph-rips ph-ripser
RUN_FLAGS ?=
# Binaries carry their commit (and whether the tree was modified) in
# their build information, which every run records in provenance.json;
# -buildvcs=auto overrides a GOFLAGS=-buildvcs=false of the environment.
BUILDVCS := -buildvcs=auto
# Debian's python3, where the packages above live (not a python3 that
# comes first in PATH).
PYTHON  ?= /usr/bin/python3

.PHONY: all deps build run test test-python fuzz-short fuzz vet proto clean bench-boundary bench-ph bench-suite bench-suite-quick bench-sparse bench-backends bench-env bench-ppo bench-main bench-sweep bench-transport

all: build

# deps installs the Debian packages that are missing (apt-get update first,
# once, as apt needs a fresh list on a new machine).
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@$(GO) version | grep -Eq 'go1\.(2[6-9]|[3-9][0-9])' || { echo "Go >= 1.26 is required; found: $$($(GO) version)"; exit 1; }

build: deps
	@mkdir -p $(BIN)
	$(GO) build $(BUILDVCS) -o $(BIN)/nthost ./host
	@for p in $(GO_PLUGINS); do \
		if [ -f plugins/$$p/main.go ]; then \
			kind=$${p%%-*}; name=$${p#*-}; \
			echo "$(GO) build -o $(BIN)/nt-$$kind-$$name ./plugins/$$p"; \
			$(GO) build $(BUILDVCS) -o $(BIN)/nt-$$kind-$$name ./plugins/$$p || exit 1; \
		fi; \
	done
	@if [ -x plugins/ph-gudhi/build.sh ]; then PYTHON=$(PYTHON) plugins/ph-gudhi/build.sh $(BIN); fi
	@# The lock beside nthost makes it verify every plugin it starts
	@# against these hashes (docs/plugins.md, Verified plugins).
	./$(BIN)/nthost plugins lock --log-level warn

# run trains Hopper-v4 for 1M steps with topology snapshots (the seed's
# defaults) and writes runs/<env-id>__ppo__<seed>__<time>/report.html.
run: build
	./$(BIN)/nthost --env mujoco --algo ppo --ph rips $(RUN_FLAGS)

# test runs every test of both modules (the root and sdk/, a module of
# its own); plugin tests start the real plugin binaries. Plain go test
# replays every fuzz target's seeds (testdata/fuzz and f.Add); fuzz-short
# then fuzzes each target for FUZZTIME.
# test runs every suite even when one fails (a failure in ./... must not
# hide the sdk's results), and fails if any did.
test: build vet
	status=0; \
	$(GO) test -count=1 -timeout 25m ./... || status=1; \
	(cd sdk && $(GO) test -count=1 -timeout 10m ./...) || status=1; \
	$(MAKE) test-python || status=1; \
	$(MAKE) fuzz-short || status=1; \
	exit $$status

# test-python tests the Python package (python/) against Debian's ripser
# and real runs of ./bin/nthost, and runs examples/python/quickstart.py.
test-python: build
	$(PYTHON) -m unittest discover -s python/tests

# Fuzz targets: package and target name. Each reader of outside data has
# one; see docs/reliability.md.
FUZZ_TARGETS := core/matio:FuzzReadNPY core/matio:FuzzReadCSV core/matio:FuzzReadNPZ \
                core/config:FuzzLoad core/tbevents:FuzzRead core/report:FuzzLoadRun \
                core/matio:FuzzReadRipser core/sweep:FuzzParseSpec \
                plugins/algo-ppo/ppo:FuzzLoadCheckpoint
# FUZZTIME counts inputs, not seconds: Go 1.26's fuzz coordinator can
# fail a duration-bounded run with "context deadline exceeded" as the time
# runs out (go.dev/issue/75804, fixed in Go 1.27), which made CI flaky.
FUZZTIME ?= 5000x

# fuzz-short fuzzes each target for FUZZTIME (5,000 inputs: a few seconds
# each on a quiet machine, most of it building the instrumented binaries).
fuzz-short:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$pkg $$name $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; \
	done

# fuzz is the longer run: a million inputs per target by default
# (make fuzz FUZZTIME=10000000x for more).
fuzz:
	$(MAKE) fuzz-short FUZZTIME=$(if $(filter 5000x,$(FUZZTIME)),1000000x,$(FUZZTIME))

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd sdk && $(GO) vet ./...

# proto regenerates sdk/pb from sdk/proto/plugin.proto (needs
# protoc-gen-go and protoc-gen-go-grpc from the Go module proxy).
proto:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" protoc -I sdk/proto \
		--go_out=sdk/pb --go_opt=paths=source_relative \
		--go-grpc_out=sdk/pb --go-grpc_opt=paths=source_relative sdk/proto/plugin.proto

clean:
	rm -rf $(BIN)

# Benchmarks (see docs/benchmarks.md for recorded results).
bench-boundary: build
	cd sdk && $(GO) test -run '^$$' -bench . -benchtime 2s .
	$(GO) test -run '^$$' -bench Step -benchtime 2s ./plugins/env-mujoco/
bench-ph: build
	$(GO) run ./plugins/ph-rips/cmd/ripsbench -workload all
bench-env: build
	$(GO) run ./plugins/env-mujoco/cmd/envbench
bench-backends: build
	./$(BIN)/nthost bench ph --ph rips,ripser,gudhi --workload all --repeat 1 --timeout 5m
# bench-suite: the standard datasets (docs/benchmarks.md, "Standard
# datasets"), ours against ripser (time, peak memory, user+sys), then all
# three plugins; bench-suite-quick keeps the rows ripser does in seconds.
bench-suite: build
	$(GO) run ./plugins/ph-rips/cmd/ripsbench -workload suite
	./$(BIN)/nthost bench ph --ph rips,ripser,gudhi --workload suite --repeat 1 --timeout 10m --mem-limit 6
bench-suite-quick: build
	$(GO) run ./plugins/ph-rips/cmd/ripsbench -workload suite-quick
	./$(BIN)/nthost bench ph --ph rips,ripser,gudhi --workload suite-quick --repeat 1 --timeout 10m --mem-limit 6
# Sparse Rips at scale (docs/benchmarks.md, "Large clouds").
bench-sparse: build
	scripts/bench-sparse.sh 0.5 2 10000:1 10000:2 50000:1 100000:1
bench-ppo: build
	$(GO) run ./plugins/algo-ppo/cmd/ppobench -env Hopper-v4,Walker2d-v4 -seeds 1,2,3
# bench-transport: plugin processes (shm-direct, shm, socket, gRPC) against --in-process.
bench-transport: build
	./scripts/bench-transport.sh 40960 1
# bench-main times the default main job (Hopper-v4, 1M steps, 48 snapshots).
bench-main: build
	/usr/bin/time -v ./$(BIN)/nthost --run-dir runs/bench-main-$$(date +%s) --log-format json
# bench-sweep times 4 short trials by hand, through the local executor and
# through a single-node SLURM it starts (needs root; it picks free ports).
bench-sweep: build
	$(GO) test -run '^$$' -bench SweepOverhead -benchtime 1x -timeout 20m ./host/
