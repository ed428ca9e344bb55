// Package image tests the image `make image` builds: reproducible digests, its configuration, layers and SBOM, the Dockerfile, and the operator run from its layer.
package image

import (
	"context"
	"os"
	"testing"

	"github.com/baosync/baosync/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, func(_ context.Context, e *testenv.Env) (func(), error) {
		env = e
		return func() {}, nil
	}))
}
