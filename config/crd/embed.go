// Package crd holds baosync's generated CustomResourceDefinitions
// (bases/, written by `make generate`), embedded for the tools that check
// objects against them offline (baosync convert).
package crd

import "embed"

// Bases are the CRDs, one YAML file per kind, as controller-gen wrote them.
//
//go:embed bases/*.yaml
var Bases embed.FS
