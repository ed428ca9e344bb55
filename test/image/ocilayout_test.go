package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The OCI image layout is read here with the standard library only, so the
// image test checks what hack/image wrote without trusting the library that
// wrote it.

// ociDescriptor is an OCI content descriptor.
type ociDescriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType"`
	Annotations  map[string]string `json:"annotations"`
	Platform     *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	} `json:"platform"`
}

// ociIndex is index.json or an image index blob.
type ociIndex struct {
	MediaType   string            `json:"mediaType"`
	Manifests   []ociDescriptor   `json:"manifests"`
	Annotations map[string]string `json:"annotations"`
}

// ociManifest is an image or artifact manifest.
type ociManifest struct {
	MediaType    string          `json:"mediaType"`
	ArtifactType string          `json:"artifactType"`
	Config       ociDescriptor   `json:"config"`
	Layers       []ociDescriptor `json:"layers"`
	Subject      *ociDescriptor  `json:"subject"`
}

// ociConfig is the part of an image configuration the test reads.
type ociConfig struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Created      string `json:"created"`
	Config       struct {
		User       string            `json:"User"`
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
	RootFS struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

// ociLayout is an image layout directory.
type ociLayout string

// blob reads a blob and fails unless its content matches its digest.
func (l ociLayout) blob(d ociDescriptor) ([]byte, error) {
	hexDigest, ok := strings.CutPrefix(d.Digest, "sha256:")
	if !ok {
		return nil, fmt.Errorf("digest %q is not sha256", d.Digest)
	}
	b, err := os.ReadFile(filepath.Join(string(l), "blobs", "sha256", hexDigest))
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != hexDigest || int64(len(b)) != d.Size {
		return nil, fmt.Errorf("blob %s does not match its descriptor", d.Digest)
	}
	return b, nil
}

// decode reads a blob as JSON into v.
func (l ociLayout) decode(d ociDescriptor, v any) error {
	b, err := l.blob(d)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", d.Digest, err)
	}
	return nil
}

// index reads index.json.
func (l ociLayout) index() (ociIndex, error) {
	var idx ociIndex
	b, err := os.ReadFile(filepath.Join(string(l), "index.json"))
	if err != nil {
		return idx, fmt.Errorf("read index.json: %w", err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return idx, fmt.Errorf("decode index.json: %w", err)
	}
	return idx, nil
}

// layerFile is one entry of a layer.
type layerFile struct {
	Mode     int64
	UID, GID int
	Data     []byte
}

// layerFiles gunzips and untars a layer, checks its diff ID, and returns its
// entries by name.
func (l ociLayout) layerFiles(d ociDescriptor, diffID string) (map[string]layerFile, error) {
	b, err := l.blob(d)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gunzip %s: %w", d.Digest, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip %s: %w", d.Digest, err)
	}
	if sum := sha256.Sum256(raw); "sha256:"+hex.EncodeToString(sum[:]) != diffID {
		return nil, fmt.Errorf("layer %s does not match diff ID %s", d.Digest, diffID)
	}
	files := map[string]layerFile{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("untar %s: %w", d.Digest, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("untar %s: %w", h.Name, err)
		}
		files[h.Name] = layerFile{Mode: h.Mode, UID: h.Uid, GID: h.Gid, Data: data}
	}
}
