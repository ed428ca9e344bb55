#!/usr/bin/env bash
# Regenerates go.mod/go.sum of the control-plane tools module for a Kubernetes release.
# Kubernetes requires its staging modules at v0.0.0 and replaces them with local paths,
# which a dependent module cannot see, so each one is required and replaced at its
# published version. The list comes from kubernetes' require block (not its replace
# block, which names two modules the proxy does not serve).
set -euo pipefail
KV=${KV:-v1.37.2}
SV=${SV:-v0.37.2}
ETCD=${ETCD:-v3.7.0}
cd "$(dirname "$0")"
go mod download "k8s.io/kubernetes@$KV"
kmod=$(go env GOMODCACHE)/k8s.io/kubernetes@$KV/go.mod
staging=$(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$kmod")
{
  printf 'module github.com/baosync/baosync/hack/tools/controlplane\n\ngo 1.26\n\nrequire (\n'
  printf '\tgo.etcd.io/etcd/server/v3 %s\n\tk8s.io/kubernetes %s\n' "$ETCD" "$KV"
  for m in $staging; do printf '\t%s %s\n' "$m" "$SV"; done
  printf ')\n\nreplace (\n'
  for m in $staging; do printf '\t%s => %s %s\n' "$m" "$m" "$SV"; done
  printf ')\n'
} > go.mod
cat > tools.go <<'GO'
//go:build tools

// Package tools pins the envtest control-plane binaries (kube-apiserver, etcd,
// kubectl) as module dependencies so that they build from the Go module proxy.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
go mod tidy
