#!/usr/bin/env bash
# build.sh TOOL... builds the test and code-generation tools from the Go module proxy
# and links them into bin/. TOOL is one of:
#   controlplane  kube-apiserver, etcd, kubectl (envtest's assets)
#   vault         a Vault server for the dev-mode integration tests (BUSL: local use only)
#   codegen       controller-gen
#   helm          helm (renders the chart in tests)
#   cyclonedx-gomod  cyclonedx-gomod (the image's SBOM, make image)
#   golangci-lint golangci-lint (make lint)
#   actionlint    actionlint (make lint: the GitHub workflows)
#
# Each tool module lives in hack/tools/TOOL with its own go.mod. Its binaries are cached
# outside the clone, in $BAOSYNC_TOOLS_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/baosync/tools),
# keyed by a hash of the module's files and the Go version, so a pin change rebuilds
# and every later run, CI included, only links.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${BAOSYNC_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/baosync/tools}
bindir=$root/bin
mkdir -p "$cache" "$bindir"

# Bump when this script's recipe changes in a way that changes the binaries.
recipe=1

binaries() {
  case $1 in
    controlplane) echo kube-apiserver etcd kubectl ;;
    vault) echo vault ;;
    codegen) echo controller-gen ;;
    helm) echo helm ;;
    cyclonedx-gomod) echo cyclonedx-gomod ;;
    golangci-lint) echo golangci-lint ;;
    actionlint) echo actionlint ;;
    *) echo "build.sh: unknown tool $1" >&2; exit 2 ;;
  esac
}

key() {
  local dir=$root/hack/tools/$1 files
  files=$(shopt -s nullglob; echo "$dir"/go.mod "$dir"/go.sum "$dir"/*.go "$dir"/*.sh)
  # shellcheck disable=SC2086 # word splitting of the file list is intended
  { echo "recipe=$recipe"; go env GOVERSION GOOS GOARCH; cat $files; } |
    sha256sum | cut -c1-16
}

# heartbeat prints a progress line every minute while a long, silent go build runs.
heartbeat() {
  local what=$1 start=$2
  while sleep 60; do
    echo "    ... still building $what ($(( ($(date +%s) - start) / 60 )) min so far)"
  done
}

build_controlplane() {
  local out=$1 src=$root/hack/tools/controlplane kv ldf p
  kv=$(awk '$1 == "k8s.io/kubernetes" {print $2}' "$src/go.mod")
  local minor=${kv#v1.}; minor=${minor%%.*}
  ldf="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=$kv -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags="$ldf" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

build_vault() {
  local out=$1 scratch
  scratch=$(mktemp -d "$cache/vault-src.XXXXXX")
  cp "$root"/hack/tools/vault/{go.mod,go.sum,prepare.sh} "$scratch/"
  "$scratch/prepare.sh" "$scratch"
  (cd "$scratch" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/vault" github.com/hashicorp/vault)
  rm -rf "$scratch"
}

build_helm() {
  local out=$1
  (cd "$root/hack/tools/helm" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/helm" helm.sh/helm/v3/cmd/helm)
}

# build_golangci-lint stamps the version, which golangci-lint otherwise reads from the
# main module (ours, unversioned); `golangci-lint version` then names the real pin.
build_golangci-lint() {
  local out=$1 src=$root/hack/tools/golangci-lint v
  v=$(awk '$1 == "github.com/golangci/golangci-lint/v2" {print $2}' "$src/go.mod")
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${v#v} -X main.date=module-proxy" \
    -o "$out/golangci-lint" github.com/golangci/golangci-lint/v2/cmd/golangci-lint)
}

build_actionlint() {
  local out=$1 src=$root/hack/tools/actionlint v
  v=$(awk '$1 == "github.com/rhysd/actionlint" {print $2}' "$src/go.mod")
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/rhysd/actionlint.version=$v" \
    -o "$out/actionlint" github.com/rhysd/actionlint/cmd/actionlint)
}

build_cyclonedx-gomod() {
  local out=$1
  (cd "$root/hack/tools/cyclonedx-gomod" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" \
    -o "$out/cyclonedx-gomod" github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod)
}

build_codegen() {
  local out=$1
  (cd "$root/hack/tools/codegen" && CGO_ENABLED=0 go build -trimpath -o "$out/controller-gen" sigs.k8s.io/controller-tools/cmd/controller-gen)
}

ensure() {
  local tool=$1 k dest bins b start hb
  k=$(key "$tool")
  dest=$cache/$tool-$k
  bins=$(binaries "$tool")
  exec 9>"$cache/$tool.lock"
  flock 9
  if [ ! -e "$dest/.complete" ]; then
    start=$(date +%s)
    echo "==> building $tool ($bins) into $dest"
    echo "    a cold build takes minutes on 2 cores (measured: control plane ~4-7, vault ~8-11); later runs reuse the cache"
    rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
    heartbeat "$tool" "$start" & hb=$!
    trap 'kill $hb 2>/dev/null' EXIT
    "build_$tool" "$dest.tmp"
    kill $hb 2>/dev/null || true; trap - EXIT
    touch "$dest.tmp/.complete"
    rm -rf "$dest"; mv "$dest.tmp" "$dest"
    echo "==> built $tool in $(( $(date +%s) - start )) s"
  fi
  for b in $bins; do ln -sfn "$dest/$b" "$bindir/$b"; done
  flock -u 9
  echo "==> $tool ready: $(for b in $bins; do printf 'bin/%s ' "$b"; done)(cache $dest)"
}

[ $# -gt 0 ] || { echo "usage: build.sh controlplane|vault|codegen|helm|cyclonedx-gomod|golangci-lint|actionlint..." >&2; exit 2; }
for t in "$@"; do ensure "$t"; done
