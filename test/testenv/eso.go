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
// ESO-compatible mode and the conversion are tested against: v2.9.0's, kept
// unchanged in ../shared/eso/v2.9.0/crds (relative to the project root),
// since the Go module proxy serves ESO only up to ESOFallbackVersion. Both
// carry the external-secrets.io/v1 API.
const ESOVersion = "v2.9.0"

// ESOFallbackVersion is the newest ESO module the proxy serves. Its CRDs are
// used only outside CI, when the shared v2.9.0 directory is missing; in CI
// (CI set) that is a failure.
const ESOFallbackVersion = "v1.3.2"

// ESOCRDDir is where ESO v2.9.0's CRDs are kept.
func ESOCRDDir() string { return filepath.Join(Root(), "..", "shared", "eso", ESOVersion, "crds") }

// InstallESOCRDs installs ESO's CRDs, as ESO's release ships them, and waits
// until the API server serves them.
func (e *Env) InstallESOCRDs(ctx context.Context) error {
	dir, version := ESOCRDDir(), ESOVersion
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			return fmt.Errorf("ESO %s CRDs: %w (CI must have ../shared/eso)", ESOVersion, err)
		}
		fmt.Fprintf(os.Stderr, "testenv: %s missing; using ESO %s's CRDs from the module proxy\n", dir, ESOFallbackVersion)
		mod, err := esoModuleDir(ctx)
		if err != nil {
			return err
		}
		dir, version = filepath.Join(mod, "config", "crds", "bases"), ESOFallbackVersion
	}
	_, err := envtest.InstallCRDs(e.Config, envtest.CRDInstallOptions{
		Paths:              []string{dir},
		ErrorIfPathMissing: true,
		MaxTime:            time.Minute,
	})
	if err != nil {
		return fmt.Errorf("install ESO %s CRDs: %w", version, err)
	}
	e.esoVersion = version
	return nil
}

// ESOCRDVersion is the ESO release whose CRDs InstallESOCRDs installed ("" before).
func (e *Env) ESOCRDVersion() string { return e.esoVersion }

// esoModuleDir downloads ESO's module (about 19 MB, once per module cache)
// and returns its directory.
func esoModuleDir(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", "github.com/external-secrets/external-secrets@"+ESOFallbackVersion)
	cmd.Dir = os.TempDir() // outside baosync's module: nothing is added to go.mod
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download ESO %s: %w (%s)", ESOFallbackVersion, err, out)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("go mod download ESO %s: %w", ESOFallbackVersion, err)
	}
	if mod.Dir == "" {
		return "", fmt.Errorf("go mod download ESO %s: %s", ESOFallbackVersion, mod.Error)
	}
	return mod.Dir, nil
}
