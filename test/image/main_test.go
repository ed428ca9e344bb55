// Package image tests the image `make image` builds: reproducible digests, its configuration, layers and SBOM, the Dockerfile, and the operator run from its layer.
package image

import (
	"os"
	"testing"

	"github.com/baosync/baosync/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.MainWithEnv(m, &env)) }
