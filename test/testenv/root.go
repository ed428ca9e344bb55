package testenv

import (
	"os"
	"path/filepath"
	"runtime"
)

// Root returns the repository root (where go.mod is), found from this file's
// location so that tests work from any package directory.
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		wd, _ := os.Getwd()
		return wd
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// BinDir is where hack/tools/build.sh links the test binaries.
func BinDir() string { return filepath.Join(Root(), "bin") }
