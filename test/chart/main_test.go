// Package chart tests the Helm chart and the kustomize output against the API server: rendering, schema, scope, upgrade and uninstall.
package chart

import (
	"os"
	"testing"

	"github.com/baosync/baosync/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.MainWithEnv(m, &env)) }
