package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The non-root identity the operator runs as, distroless's "nonroot".
const (
	uid  = 65532
	user = "65532:65532"
)

// entry is one file or directory of a layer.
type entry struct {
	Name string // relative to /, no leading slash; directories end in "/"
	Mode int64
	Data []byte
}

// baseEntries are the files every platform shares: an /etc/passwd and
// /etc/group that name the non-root user (tools and some libraries look it
// up), a sticky /tmp, and the license the binary is distributed under.
func baseEntries(license []byte) []entry {
	return []entry{
		{Name: "etc/", Mode: 0o755},
		{Name: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{Name: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{Name: "home/", Mode: 0o755},
		{Name: "home/nonroot/", Mode: 0o700},
		{Name: "licenses/", Mode: 0o755},
		{Name: "licenses/baosync/", Mode: 0o755},
		{Name: "licenses/baosync/LICENSE", Mode: 0o644, Data: license},
		{Name: "tmp/", Mode: 0o1777},
	}
}

// binaryEntries is the layer that holds the operator alone, at /baosync.
func binaryEntries(bin string) ([]entry, error) {
	b, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	return []entry{{Name: "baosync", Mode: 0o755, Data: b}}, nil
}

// newLayer writes entries as a gzipped tar in name order, every header with
// the same time and owner, so the bytes (and so the digest) depend only on
// the content. The home directory belongs to the non-root user; all else to root.
func newLayer(entries []entry, mtime time.Time) (v1.Layer, error) {
	sorted := append([]entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	tw := tar.NewWriter(zw)
	for _, e := range sorted {
		if err := tw.WriteHeader(header(e, mtime)); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", e.Name, err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close tar: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("close gzip: %w", err)
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// header is the tar header of e: USTAR, numeric owners only, fixed time.
func header(e entry, mtime time.Time) *tar.Header {
	h := &tar.Header{
		Name:    e.Name,
		Mode:    e.Mode,
		ModTime: mtime,
		Format:  tar.FormatUSTAR,
	}
	if e.Name[len(e.Name)-1] == '/' {
		h.Typeflag = tar.TypeDir
	} else {
		h.Typeflag = tar.TypeReg
		h.Size = int64(len(e.Data))
	}
	if path.Clean(e.Name) == "home/nonroot" {
		h.Uid, h.Gid = uid, uid
	}
	return h
}
