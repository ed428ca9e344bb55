package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// meta is what the labels and annotations say about the image.
type meta struct {
	stamp
	Source string // the repository URL
}

// labels are the OCI annotation keys a scanner or a registry reads; set both
// as config labels (what `docker inspect` shows) and on the index.
func (m meta) labels() map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "baosync",
		"org.opencontainers.image.description": "Keeps Kubernetes Secrets in sync with secrets held in OpenBao or HashiCorp Vault",
		"org.opencontainers.image.source":      m.Source,
		"org.opencontainers.image.url":         m.Source,
		"org.opencontainers.image.revision":    m.Commit,
		"org.opencontainers.image.version":     m.Version,
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.created":     m.Time.Format(time.RFC3339),
	}
}

// platformImage assembles one platform's image from the shared base layer
// and that platform's binary layer: non-root, the binary as entrypoint and
// nothing else to run (no shell, no package manager).
func platformImage(base, bin v1.Layer, p platform, m meta) (v1.Image, error) {
	created := v1.Time{Time: m.Time}
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1),
		mutate.Addendum{Layer: base, MediaType: types.OCILayer,
			History: v1.History{Created: created, CreatedBy: "hack/image: /etc/passwd, /etc/group, /tmp, /licenses", Comment: "base"}},
		mutate.Addendum{Layer: bin, MediaType: types.OCILayer,
			History: v1.History{Created: created, CreatedBy: "hack/image: go build -trimpath -ldflags '" + m.ldflags() + "'", Comment: "operator"}})
	if err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Arch, p.Variant
	cf.Created = created
	cf.Config = v1.Config{
		User:       user,
		Entrypoint: []string{"/baosync"},
		WorkingDir: "/",
		Env:        []string{"HOME=/home/nonroot"},
		Labels:     m.labels(),
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	return img, nil
}

// imageIndex puts the platform images in one OCI image index, in the order given.
func imageIndex(imgs []v1.Image, ps []platform, m meta) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for i, img := range imgs {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			MediaType: types.OCIManifestSchema1,
			Platform:  &v1.Platform{OS: ps[i].OS, Architecture: ps[i].Arch, Variant: ps[i].Variant},
		}})
	}
	annotated, ok := mutate.Annotations(idx, m.labels()).(v1.ImageIndex)
	if !ok {
		return nil, fmt.Errorf("annotate index: not an index")
	}
	return annotated, nil
}

// writeLayout replaces dir with an OCI image layout holding idx, named by the
// version (the org.opencontainers.image.ref.name annotation).
func writeLayout(dir string, idx v1.ImageIndex, version string) (layout.Path, error) {
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("clear %s: %w", dir, err)
	}
	p, err := layout.Write(dir, mutate.IndexMediaType(empty.Index, types.OCIImageIndex))
	if err != nil {
		return "", fmt.Errorf("write layout: %w", err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": version,
	})); err != nil {
		return "", fmt.Errorf("write image index: %w", err)
	}
	return p, nil
}

// writeTarball writes img as a `docker load`-able tarball tagged repo:version.
func writeTarball(path, repo, version string, img v1.Image) error {
	tag, err := name.NewTag(repo + ":" + version)
	if err != nil {
		return fmt.Errorf("tag %s:%s: %w", repo, version, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return fmt.Errorf("write tarball: %w", err)
	}
	return nil
}
