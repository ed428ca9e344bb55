// Command image builds baosync's container image the way ko does, without a
// Docker engine and without pulling a base image: the static operator binary
// for each platform on a small base layer of its own, assembled with
// go-containerregistry into a multi-platform OCI image index. The same commit
// gives the same digest. It writes, under -out:
//
//	oci/                       an OCI image layout: the index, tagged with the
//	                           version, and the SBOM as an artifact referring to it
//	baosync-VERSION.tar        one platform's image for `docker load`
//	baosync-VERSION.cdx.json   the CycloneDX SBOM (with -sbom-tool)
//	digest                     the image index digest
//	build/OS-ARCH/baosync      the binaries
//
// Run it from the repository with `make image`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
)

// options are the command line.
type options struct {
	root, out, platforms, tarballPlatform string
	version, commit, epoch                string
	repo, source, sbomTool                string
}

func main() {
	var o options
	flag.StringVar(&o.root, "root", "", "the repository to build (default: git's top level of the working directory)")
	flag.StringVar(&o.out, "out", "bin/image", "output directory, relative to -root")
	flag.StringVar(&o.platforms, "platforms", "linux/amd64,linux/arm64", "comma-separated platforms")
	flag.StringVar(&o.tarballPlatform, "tarball-platform", "linux/amd64", "the platform written as the `docker load` tarball")
	flag.StringVar(&o.version, "version", "", "version stamped into the binary and labels (default: git describe --tags --always --dirty)")
	flag.StringVar(&o.commit, "commit", "", "commit stamped into the binary and labels (default: git rev-parse --short HEAD)")
	flag.StringVar(&o.epoch, "source-date-epoch", "", "seconds since 1970 for every timestamp (default: $SOURCE_DATE_EPOCH, else the commit time)")
	flag.StringVar(&o.repo, "repo", "ghcr.io/baosync/baosync", "image repository the tarball is tagged with")
	flag.StringVar(&o.source, "source", "https://github.com/baosync/baosync", "org.opencontainers.image.source")
	flag.StringVar(&o.sbomTool, "sbom-tool", "", "path of cyclonedx-gomod; empty skips the SBOM")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

// run builds the binaries, the image index, the layout, the tarball and the
// SBOM, and prints where they are.
func run(ctx context.Context, o options, w io.Writer) error {
	start := time.Now()
	if o.root == "" {
		root, err := git(ctx, ".", "rev-parse", "--show-toplevel")
		if err != nil {
			return err
		}
		o.root = root
	}
	if !filepath.IsAbs(o.out) {
		o.out = filepath.Join(o.root, o.out)
	}
	ps, err := parsePlatforms(o.platforms)
	if err != nil {
		return err
	}
	s, err := resolveStamp(ctx, o.root, stamp{Version: o.version, Commit: o.commit}, o.epoch)
	if err != nil {
		return err
	}
	m := meta{stamp: s, Source: o.source}
	imgs, bins, err := platformImages(ctx, o, ps, m)
	if err != nil {
		return err
	}
	idx, err := imageIndex(imgs, ps, m)
	if err != nil {
		return err
	}
	p, err := writeLayout(filepath.Join(o.out, "oci"), idx, s.Version)
	if err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return fmt.Errorf("index digest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.out, "digest"), []byte(digest.String()+"\n"), 0o644); err != nil {
		return fmt.Errorf("write digest: %w", err)
	}
	fmt.Fprintf(w, "image index   %s  %s (OCI layout %s, tag %s)\n", o.repo, digest, rel(o.root, string(p)), s.Version)
	for i, img := range imgs {
		if err := printPlatform(w, ps[i], img); err != nil {
			return err
		}
	}
	if err := tarballFor(o, ps, imgs, s.Version, w); err != nil {
		return err
	}
	if o.sbomTool != "" {
		if err := sbomFor(ctx, o, p, idx, bins, s, w); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "built in %.0f s\n", time.Since(start).Seconds())
	return nil
}

// platformImages builds each platform's binary and image on a shared base layer.
func platformImages(ctx context.Context, o options, ps []platform, m meta) ([]v1.Image, []string, error) {
	license, err := os.ReadFile(filepath.Join(o.root, "LICENSE"))
	if err != nil {
		return nil, nil, fmt.Errorf("read LICENSE: %w", err)
	}
	base, err := newLayer(baseEntries(license), m.Time)
	if err != nil {
		return nil, nil, err
	}
	var imgs []v1.Image
	var bins []string
	for _, p := range ps {
		bin, err := buildBinary(ctx, o.root, filepath.Join(o.out, "build"), p, m.stamp)
		if err != nil {
			return nil, nil, err
		}
		entries, err := binaryEntries(bin)
		if err != nil {
			return nil, nil, err
		}
		layer, err := newLayer(entries, m.Time)
		if err != nil {
			return nil, nil, err
		}
		img, err := platformImage(base, layer, p, m)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		imgs, bins = append(imgs, img), append(bins, bin)
	}
	return imgs, bins, nil
}

// printPlatform prints a platform's manifest digest and compressed size.
func printPlatform(w io.Writer, p platform, img v1.Image) error {
	d, err := img.Digest()
	if err != nil {
		return fmt.Errorf("%s digest: %w", p, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("%s layers: %w", p, err)
	}
	var size int64
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return fmt.Errorf("%s layer size: %w", p, err)
		}
		size += n
	}
	fmt.Fprintf(w, "  %-11s %s  %.1f MiB compressed\n", p, d, float64(size)/(1<<20))
	return nil
}

// tarballFor writes the -tarball-platform image as a docker tarball.
func tarballFor(o options, ps []platform, imgs []v1.Image, version string, w io.Writer) error {
	for i, p := range ps {
		if p.String() != o.tarballPlatform {
			continue
		}
		path := filepath.Join(o.out, "baosync-"+version+".tar")
		if err := writeTarball(path, o.repo, version, imgs[i]); err != nil {
			return err
		}
		fmt.Fprintf(w, "tarball       %s (%s, docker load)\n", rel(o.root, path), p)
		return nil
	}
	return fmt.Errorf("-tarball-platform %s is not among -platforms %s", o.tarballPlatform, o.platforms)
}

// sbomFor writes the SBOM next to the layout and attaches it to the index.
func sbomFor(ctx context.Context, o options, p layout.Path, idx v1.ImageIndex, bins []string, s stamp, w io.Writer) error {
	if err := sameModules(bins); err != nil {
		return err
	}
	path := filepath.Join(o.out, "baosync-"+s.Version+".cdx.json")
	if err := generateSBOM(ctx, o.sbomTool, bins[0], s.Version, path); err != nil {
		return err
	}
	desc, err := partial.Descriptor(idx)
	if err != nil {
		return fmt.Errorf("index descriptor: %w", err)
	}
	d, err := attachSBOM(p, path, *desc, s.Time)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "sbom          %s (CycloneDX; in the layout as %s, subject %s)\n", rel(o.root, path), d, desc.Digest)
	return nil
}

// rel shortens path for printing when it is inside root.
func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}
