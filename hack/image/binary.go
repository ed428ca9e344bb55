package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// platform is one os/arch the image is built for.
type platform struct {
	OS, Arch, Variant string
}

// String is the os/arch form used by flags and in output.
func (p platform) String() string { return p.OS + "/" + p.Arch }

// parsePlatforms reads a comma-separated list of os/arch pairs.
func parsePlatforms(s string) ([]platform, error) {
	var out []platform
	for _, f := range strings.Split(s, ",") {
		goos, arch, ok := strings.Cut(strings.TrimSpace(f), "/")
		if !ok || goos != "linux" || (arch != "amd64" && arch != "arm64") {
			return nil, fmt.Errorf("platform %q: want linux/amd64 or linux/arm64", f)
		}
		p := platform{OS: goos, Arch: arch}
		if arch == "arm64" {
			// What registries and runtimes record for GOARM64's default, v8.0.
			p.Variant = "v8"
		}
		out = append(out, p)
	}
	return out, nil
}

// stamp is what identifies a build: the version and commit written into the
// binary, and the commit's time, used for every timestamp in the image.
type stamp struct {
	Version, Commit string
	Time            time.Time
}

// ldflags are the Makefile's LDFLAGS plus an empty build ID, which carries
// no information once the build is reproducible and only differs by path.
func (s stamp) ldflags() string {
	return fmt.Sprintf("-s -w -buildid= -X main.version=%s -X main.commit=%s", s.Version, s.Commit)
}

// resolveStamp fills what the flags left empty from git: the short commit,
// `git describe` for the version, and SOURCE_DATE_EPOCH or the commit time.
func resolveStamp(ctx context.Context, root string, s stamp, epoch string) (stamp, error) {
	var err error
	if s.Commit == "" {
		if s.Commit, err = git(ctx, root, "rev-parse", "--short", "HEAD"); err != nil {
			return s, err
		}
	}
	if s.Version == "" {
		if s.Version, err = git(ctx, root, "describe", "--tags", "--always", "--dirty"); err != nil {
			return s, err
		}
	}
	if epoch == "" {
		epoch = os.Getenv("SOURCE_DATE_EPOCH")
	}
	if epoch == "" {
		if epoch, err = git(ctx, root, "log", "-1", "--format=%ct", "HEAD"); err != nil {
			return s, err
		}
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return s, fmt.Errorf("source date epoch %q: %w", epoch, err)
	}
	s.Time = time.Unix(sec, 0).UTC()
	return s, nil
}

// git runs a read-only git command in root and returns its trimmed output.
func git(ctx context.Context, root string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// buildBinary compiles the operator in root for p into dir/<os>-<arch>/baosync:
// static, path-free and stamped, so that the same commit gives the same bytes.
func buildBinary(ctx context.Context, root, dir string, p platform, s stamp) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	out := filepath.Join(dir, p.OS+"-"+p.Arch, "baosync")
	// No VCS stamp: the commit is in the ldflags and the labels, and the Dockerfile's
	// build, which has no .git, then makes the same bytes.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", s.ldflags(), "-o", out, ".")
	cmd.Dir = root
	// GOFLAGS from the caller (a -race test run, say) must not leak into the image.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch,
		"GOAMD64=v1", "GOARM64=v8.0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", p, err, b)
	}
	return out, nil
}
