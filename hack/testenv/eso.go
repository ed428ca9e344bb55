package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ESOVersion is the External Secrets Operator release whose CRDs the
// ESO-compatible mode is tested against: the last one the Go module proxy
// serves under github.com/external-secrets/external-secrets. It carries the
// external-secrets.io/v1 API.
const ESOVersion = "v1.3.2"

// InstallESOCRDs installs ESO's CRDs, as ESO's release ships them
// (config/crds/bases of its module, fetched with the go command into the
// module cache), and waits until the API server serves them.
func (e *Env) InstallESOCRDs(ctx context.Context) error {
	dir, err := esoModuleDir(ctx)
	if err != nil {
		return err
	}
	_, err = envtest.InstallCRDs(e.Config, envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(dir, "config", "crds", "bases")},
		ErrorIfPathMissing: true,
		MaxTime:            time.Minute,
	})
	if err != nil {
		return fmt.Errorf("install ESO %s CRDs: %w", ESOVersion, err)
	}
	return nil
}

// esoModuleDir downloads ESO's module (about 19 MB, once per module cache)
// and returns its directory.
func esoModuleDir(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", "github.com/external-secrets/external-secrets@"+ESOVersion)
	cmd.Dir = os.TempDir() // outside baosync's module: nothing is added to go.mod
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download ESO %s: %w (%s)", ESOVersion, err, out)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("go mod download ESO %s: %w", ESOVersion, err)
	}
	if mod.Dir == "" {
		return "", fmt.Errorf("go mod download ESO %s: %s", ESOVersion, mod.Error)
	}
	return mod.Dir, nil
}
