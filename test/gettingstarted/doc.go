// Package gettingstarted runs the shell commands of docs/getting-started.md
// against a local kube-apiserver and Vault, in the order the page gives them,
// so that the page cannot drift from what works. Blocks that need a real
// cluster say so on their first line and are skipped (see Skip).
package gettingstarted
