// Package testenv is the one test harness: a real kube-apiserver and etcd
// (controller-runtime's envtest, binaries from bin/) and a real Vault server in
// dev mode on a free 127.0.0.1 port, with clients for both. Every integration
// suite, the demo and the benchmark start their servers through it.
package testenv
