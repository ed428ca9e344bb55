//go:build tools

// Package tools pins the envtest control-plane binaries (kube-apiserver, etcd,
// kubectl) as module dependencies so that they build from the Go module proxy.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
