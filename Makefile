# baosync: `make demo` shows the main job end to end; `make test` runs every test.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

BIN          := $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen
# The default role: every controller package but the opt-in ESO-compatible
# mode, whose role is config/components/eso-compat/role.yaml.
MANAGER_RBAC_PATHS = $(shell go list ./controllers/... | grep -v /esocompat | sed 's|github.com/baosync/baosync/|./|' | paste -sd ';' -)
IMG          ?= baosync:dev
# Where a release pushes the image and the chart.
IMAGE_REPO   ?= ghcr.io/baosync/baosync
CHART_REPO   ?= oci://ghcr.io/baosync/charts
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT       ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The same flags build bin/baosync, the image's binaries (hack/image) and the Dockerfile's.
LDFLAGS      := -s -w -buildid= -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Integration suites start a real API server and Vault; give a busy machine room.
TEST_TIMEOUT ?= 25m
GOTEST_FLAGS ?= -race

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Tools

.PHONY: tools
tools: ## Build (or link from the cache) kube-apiserver, etcd, kubectl, vault, controller-gen, helm and cyclonedx-gomod into bin/.
	hack/tools/build.sh codegen controlplane vault helm cyclonedx-gomod

$(CONTROLLER_GEN): hack/tools/codegen/go.mod hack/tools/codegen/go.sum
	hack/tools/build.sh codegen

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code, CRDs and RBAC from the Go types and markers.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role paths="$(MANAGER_RBAC_PATHS)" output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) rbac:roleName=eso-compat-role paths=./controllers/esocompat output:rbac:artifacts:config=config/components/eso-compat
	cp config/crd/bases/*.yaml charts/baosync/files/crds/
	cp config/rbac/role.yaml charts/baosync/files/role.yaml
	cp config/components/eso-compat/role.yaml charts/baosync/files/eso-compat-role.yaml
	go run ./hack/apidocs config/crd/bases docs/api-reference.md

.PHONY: verify
verify: generate ## Fail when generated files differ from what is committed.
	@git diff --exit-code -- api config charts docs/api-reference.md || { echo "generated files are stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- api config charts)" || { echo "untracked generated files: run 'make generate' and commit"; git status --porcelain -- api config charts; exit 1; }

.PHONY: fmt
fmt: ## Format the code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint-tools
lint-tools: ## Build (or link from the cache) golangci-lint and actionlint into bin/.
	hack/tools/build.sh golangci-lint actionlint

.PHONY: lint
lint: lint-tools ## actionlint on .github/workflows, then golangci-lint (.golangci.yml) on the Go code.
	$(BIN)/actionlint
	$(BIN)/golangci-lint run ./...

##@ Test

.PHONY: test
test: tools vet chart-lint test-deps ## Run every test: unit, integration (real kube-apiserver + Vault) and fuzz seeds.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go test $(GOTEST_FLAGS) -timeout $(TEST_TIMEOUT) ./...

.PHONY: test-short
test-short: ## The pure tables only (go test -short): no server built or started, seconds on a fresh clone.
	go test -short ./...

.PHONY: test-deps
test-deps: ## Install Debian's postgresql and slapd for the lease and ldap suites when missing (apt-get, as root or with sudo).
	@hack/test-deps.sh

.PHONY: chart-lint
chart-lint: tools ## Lint the Helm chart strictly (warnings fail): default values, then a scoped install with the options on.
	$(BIN)/helm lint --strict charts/baosync
	$(BIN)/helm lint --strict charts/baosync --set scopeNamespace=apps,replicaCount=2,operatorIdentity.enabled=true,rolloutRestart.enabled=true,serviceMonitor.enabled=true

.PHONY: demo
demo: tools build ## Run the main job end to end on a local control plane and Vault.
	go run ./hack/demo

##@ Measure

N ?= 1000,5000,10000
.PHONY: bench
bench: tools build ## Benchmark at scale (N=1000 for one size); prints a table, writes JSON to BENCH_OUT.
	go run ./hack/bench -n $(N) $(if $(BENCH_OUT),-out $(BENCH_OUT),) $(BENCH_FLAGS)

.PHONY: soak
soak: tools build ## 10-minute soak: 1,000 ExternalSecrets refreshing every 10 s; goroutines and RSS at start and end.
	go run ./hack/bench -soak 10s -soak-for $(or $(SOAK_FOR),10m) -n 1000 -paths 10 -memory-check=false $(if $(BENCH_OUT),-out $(BENCH_OUT),)

##@ Build

.PHONY: build
build: ## Build the operator into bin/baosync.
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/baosync .

.PHONY: run
run: ## Run the operator against the current kubeconfig.
	go run . --metrics-bind-address=:8080 --metrics-secure=false --health-probe-bind-address=:8081

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMG) .

.PHONY: image
image: ## Build the linux/amd64+arm64 OCI image without a Docker engine into bin/image, with its SBOM; prints the digest.
	hack/tools/build.sh cyclonedx-gomod
	go run -C hack/image . -root $(CURDIR) -version $(VERSION) -commit $(COMMIT) -repo $(IMAGE_REPO) -sbom-tool $(BIN)/cyclonedx-gomod

.PHONY: release-dry-run
release-dry-run: ## Every step of a release short of pushing (VERSION=v0.1.0): image, SBOM, chart, notes.
	@[[ "$(VERSION)" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$$ ]] || { echo "release-dry-run: VERSION=$(VERSION) must look like v0.1.0"; exit 1; }
	$(MAKE) --no-print-directory image VERSION=$(VERSION)
	hack/tools/build.sh helm
	IMAGE_REPO=$(IMAGE_REPO) CHART_REPO=$(CHART_REPO) hack/release/dry-run.sh $(VERSION)

##@ Deploy

# The kubectl on PATH; without one, bin/kubectl (built by `make tools`, or here).
KUBECTL ?= $(or $(shell command -v kubectl 2>/dev/null),$(BIN)/kubectl)

$(BIN)/kubectl:
	hack/tools/build.sh controlplane

.PHONY: install
install: $(KUBECTL) ## Install the CRDs into the current kubeconfig's cluster.
	$(KUBECTL) apply --server-side -f config/crd/bases

.PHONY: deploy
deploy: $(KUBECTL) ## Deploy the operator with kustomize to the current kubeconfig's cluster (IMG=repo/name:tag).
	$(KUBECTL) kustomize config/default | sed 's|image: baosync:dev|image: $(IMG)|' | $(KUBECTL) apply --server-side -f -
