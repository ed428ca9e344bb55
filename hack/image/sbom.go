package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of the SBOM artifact: CycloneDX JSON, with OCI's empty config.
const (
	cycloneDXJSON = "application/vnd.cyclonedx+json"
	emptyJSON     = "application/vnd.oci.empty.v1+json"
)

// sameModules fails unless every binary links the same modules at the same
// versions and sums, which is what lets one SBOM describe every platform.
func sameModules(bins []string) error {
	var first string
	for i, b := range bins {
		info, err := buildinfo.ReadFile(b)
		if err != nil {
			return fmt.Errorf("read build info of %s: %w", b, err)
		}
		var list bytes.Buffer
		for _, d := range info.Deps {
			fmt.Fprintf(&list, "%s %s %s\n", d.Path, d.Version, d.Sum)
		}
		if i == 0 {
			first = list.String()
		} else if list.String() != first {
			return fmt.Errorf("%s links other modules than %s: one SBOM cannot describe both", b, bins[0])
		}
	}
	return nil
}

// generateSBOM runs cyclonedx-gomod on the binary: its modules as recorded
// in the build info, the Go standard library included, without serial number
// or timestamp so the same binary gives the same document.
func generateSBOM(ctx context.Context, tool, bin, version, out string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, "bin", "-json", "-std", "-noserial", "-notimestamp",
		"-version", version, "-output", out, bin)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cyclonedx-gomod: %w\n%s", err, b)
	}
	return nil
}

// attachSBOM stores the SBOM in the layout as an OCI artifact whose subject is
// the image index, the form `oras cp -r` and registries' referrers API carry
// along with the image. It returns the artifact manifest's digest.
func attachSBOM(p layout.Path, sbomPath string, subject v1.Descriptor, created time.Time) (v1.Hash, error) {
	sbom, err := os.ReadFile(sbomPath)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read SBOM: %w", err)
	}
	sbomDesc, err := writeBlob(p, sbom, cycloneDXJSON)
	if err != nil {
		return v1.Hash{}, err
	}
	sbomDesc.Annotations = map[string]string{"org.opencontainers.image.title": "sbom.cdx.json"}
	cfgDesc, err := writeBlob(p, []byte("{}"), emptyJSON)
	if err != nil {
		return v1.Hash{}, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  cycloneDXJSON,
		Config:        cfgDesc,
		Layers:        []v1.Descriptor{sbomDesc},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations:   map[string]string{"org.opencontainers.image.created": created.Format(time.RFC3339)},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("encode SBOM manifest: %w", err)
	}
	desc, err := writeBlob(p, raw, string(types.OCIManifestSchema1))
	if err != nil {
		return v1.Hash{}, err
	}
	desc.ArtifactType = cycloneDXJSON
	if err := p.AppendDescriptor(desc); err != nil {
		return v1.Hash{}, fmt.Errorf("list SBOM in index.json: %w", err)
	}
	return desc.Digest, nil
}

// writeBlob stores b under blobs/sha256 and returns its descriptor.
func writeBlob(p layout.Path, b []byte, mediaType string) (v1.Descriptor, error) {
	h, size, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("hash blob: %w", err)
	}
	if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(b))); err != nil {
		return v1.Descriptor{}, fmt.Errorf("write blob: %w", err)
	}
	return v1.Descriptor{MediaType: types.MediaType(mediaType), Digest: h, Size: size}, nil
}
