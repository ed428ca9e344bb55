package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/baosync/baosync/test/testenv"
)

// imageVersion is stamped into the test images; imageBudget is the most a
// platform's compressed layers may weigh.
const (
	imageVersion = "v0.0.0-imagetest"
	imageBudget  = 40 << 20
)

// builtImage is what hack/image wrote into one output directory.
type builtImage struct {
	dir    string
	digest string
	took   time.Duration
}

var (
	imageOnce    sync.Once
	imageBuilder string
	firstImage   builtImage
	imageErr     error
	// imageCommit and imageEpoch are read from git once, so that a commit
	// landing while the tests run cannot make two builds differ.
	imageCommit, imageEpoch string
)

// testImage builds hack/image's program once and the image once for every
// test of this file; CI has no other way to get it.
func testImage(t *testing.T) builtImage {
	t.Helper()
	imageOnce.Do(func() {
		// Inside the harness's directory, which testenv.Main removes when every test passed.
		dir, err := os.MkdirTemp(env.Dir, "image-")
		if err != nil {
			imageErr = err
			return
		}
		if imageCommit, imageEpoch, err = headCommit(); err != nil {
			imageErr = err
			return
		}
		imageBuilder = filepath.Join(dir, "image")
		build := exec.Command("go", "build", "-o", imageBuilder, ".")
		build.Dir = filepath.Join(testenv.Root(), "hack", "image")
		if out, err := build.CombinedOutput(); err != nil {
			imageErr = &buildError{err: err, out: out}
			return
		}
		firstImage, imageErr = runImageBuilder(filepath.Join(dir, "first"))
	})
	if imageErr != nil {
		t.Fatalf("build the image: %v", imageErr)
	}
	return firstImage
}

// headCommit returns HEAD's short hash and commit time, as hack/image reads them.
func headCommit() (commit, epoch string, err error) {
	out, err := exec.Command("git", "-C", testenv.Root(), "log", "-1", "--format=%h %ct").Output()
	if err != nil {
		return "", "", err
	}
	commit, epoch, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
	return commit, epoch, nil
}

// commitTime is the time of the built commit, as every timestamp of the image shows it.
func commitTime() string {
	sec, _ := strconv.ParseInt(imageEpoch, 10, 64)
	return time.Unix(sec, 0).UTC().Format(time.RFC3339)
}

// buildError keeps a failed command's output with its error.
type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// runImageBuilder runs the image program into dir, as `make image` does.
func runImageBuilder(dir string) (builtImage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, imageBuilder, "-root", testenv.Root(), "-out", dir, "-version", imageVersion,
		"-commit", imageCommit, "-source-date-epoch", imageEpoch, "-sbom-tool", filepath.Join(testenv.BinDir(), "cyclonedx-gomod"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return builtImage{}, &buildError{err: err, out: out}
	}
	b, err := os.ReadFile(filepath.Join(dir, "digest"))
	if err != nil {
		return builtImage{}, err
	}
	return builtImage{dir: dir, digest: strings.TrimSpace(string(b)), took: time.Since(start)}, nil
}

// TestImage_SameCommitGivesTheSameDigest builds the image a second time and
// compares the index digests and the SBOMs.
func TestImage_SameCommitGivesTheSameDigest(t *testing.T) {
	g := NewWithT(t)
	first := testImage(t)
	second, err := runImageBuilder(filepath.Join(filepath.Dir(first.dir), "second"))
	g.Expect(err).NotTo(HaveOccurred())
	t.Logf("image index %s: first build %s, second %s", first.digest, first.took.Round(time.Second), second.took.Round(time.Second))
	g.Expect(second.digest).To(Equal(first.digest))
	sbom := "baosync-" + imageVersion + ".cdx.json"
	a, err := os.ReadFile(filepath.Join(first.dir, sbom))
	g.Expect(err).NotTo(HaveOccurred())
	b, err := os.ReadFile(filepath.Join(second.dir, sbom))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(b).To(Equal(a), "the SBOM differs between two builds of the same commit")
}

// TestImage_IsNonRootWithoutAShellAndLabelled opens the layout and checks
// every platform's configuration and layers, and the attached SBOM.
func TestImage_IsNonRootWithoutAShellAndLabelled(t *testing.T) {
	g := NewWithT(t)
	img := testImage(t)
	l := ociLayout(filepath.Join(img.dir, "oci"))
	top, err := l.index()
	g.Expect(err).NotTo(HaveOccurred())
	index, sbom := splitTop(t, top)
	g.Expect(index.Digest).To(Equal(img.digest))
	g.Expect(index.Annotations).To(HaveKeyWithValue("org.opencontainers.image.ref.name", imageVersion))
	var idx ociIndex
	g.Expect(l.decode(index, &idx)).To(Succeed())
	var platforms []string
	for _, m := range idx.Manifests {
		g.Expect(m.Platform).NotTo(BeNil())
		platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture)
		checkPlatformImage(t, l, m)
	}
	g.Expect(platforms).To(Equal([]string{"linux/amd64", "linux/arm64"}))
	checkSBOM(t, l, sbom, index)
}

// splitTop finds, in index.json, the image index and the SBOM referring to it.
func splitTop(t *testing.T, top ociIndex) (index, sbom ociDescriptor) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(top.Manifests).To(HaveLen(2))
	for _, d := range top.Manifests {
		switch d.MediaType {
		case "application/vnd.oci.image.index.v1+json":
			index = d
		case "application/vnd.oci.image.manifest.v1+json":
			sbom = d
		}
	}
	g.Expect(index.Digest).NotTo(BeEmpty(), "no image index in index.json")
	g.Expect(sbom.ArtifactType).To(Equal("application/vnd.cyclonedx+json"))
	return index, sbom
}

// checkPlatformImage checks one platform's config and that its layers hold
// the operator, the non-root user's files and nothing that could run a shell.
func checkPlatformImage(t *testing.T, l ociLayout, d ociDescriptor) {
	t.Helper()
	g := NewWithT(t)
	var m ociManifest
	g.Expect(l.decode(d, &m)).To(Succeed())
	var cfg ociConfig
	g.Expect(l.decode(m.Config, &cfg)).To(Succeed())
	g.Expect(cfg.Architecture).To(Equal(d.Platform.Architecture))
	g.Expect(cfg.Config.User).To(Equal("65532:65532"))
	g.Expect(cfg.Config.Entrypoint).To(Equal([]string{"/baosync"}))
	g.Expect(cfg.Config.Cmd).To(BeEmpty())
	g.Expect(cfg.Config.Labels).To(And(
		HaveKeyWithValue("org.opencontainers.image.source", "https://github.com/baosync/baosync"),
		HaveKeyWithValue("org.opencontainers.image.revision", imageCommit),
		HaveKeyWithValue("org.opencontainers.image.version", imageVersion),
		HaveKeyWithValue("org.opencontainers.image.licenses", "Apache-2.0"),
		HaveKeyWithValue("org.opencontainers.image.created", commitTime())))
	g.Expect(cfg.Created).To(Equal(commitTime()))
	g.Expect(m.Layers).To(HaveLen(len(cfg.RootFS.DiffIDs)))
	var size int64
	regular := map[string]bool{}
	for i, layer := range m.Layers {
		size += layer.Size
		files, err := l.layerFiles(layer, cfg.RootFS.DiffIDs[i])
		g.Expect(err).NotTo(HaveOccurred())
		for name := range files {
			if !strings.HasSuffix(name, "/") {
				regular[name] = true
			}
		}
	}
	t.Logf("%s/%s: %s, %.1f MiB compressed in %d layers", cfg.OS, cfg.Architecture, d.Digest, float64(size)/(1<<20), len(m.Layers))
	g.Expect(size).To(BeNumerically("<", imageBudget), "compressed size over the %d MiB budget", imageBudget>>20)
	// Only these files: no shell, no busybox, no package manager.
	g.Expect(regular).To(Equal(map[string]bool{"baosync": true, "etc/passwd": true, "etc/group": true, "licenses/baosync/LICENSE": true}))
}

// checkSBOM checks that the SBOM artifact refers to the image index and lists
// the operator's modules.
func checkSBOM(t *testing.T, l ociLayout, d, index ociDescriptor) {
	t.Helper()
	g := NewWithT(t)
	var m ociManifest
	g.Expect(l.decode(d, &m)).To(Succeed())
	g.Expect(m.Subject).NotTo(BeNil())
	g.Expect(m.Subject.Digest).To(Equal(index.Digest))
	g.Expect(m.Layers).To(HaveLen(1))
	var bom struct {
		BOMFormat  string `json:"bomFormat"`
		Components []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"components"`
	}
	g.Expect(l.decode(m.Layers[0], &bom)).To(Succeed())
	g.Expect(bom.BOMFormat).To(Equal("CycloneDX"))
	var names []string
	for _, c := range bom.Components {
		names = append(names, c.Name)
	}
	g.Expect(names).To(ContainElements("sigs.k8s.io/controller-runtime", "github.com/openbao/openbao/api/v2",
		"golang.org/x/crypto/x509roots/fallback", "std"))
}

// TestDockerfile_BuildsTheSameBinaryAsMakeImage checks that the Dockerfile,
// kept for users who build with Docker, compiles with the Makefile's flags,
// copies every folder the operator's packages live in, and runs as 65532.
func TestDockerfile_BuildsTheSameBinaryAsMakeImage(t *testing.T) {
	g := NewWithT(t)
	makefile, err := os.ReadFile(filepath.Join(testenv.Root(), "Makefile"))
	g.Expect(err).NotTo(HaveOccurred())
	dockerfile, err := os.ReadFile(filepath.Join(testenv.Root(), "Dockerfile"))
	g.Expect(err).NotTo(HaveOccurred())
	var ldflags string
	for _, line := range strings.Split(string(makefile), "\n") {
		if v, ok := strings.CutPrefix(line, "LDFLAGS"); ok {
			_, ldflags, _ = strings.Cut(v, ":=")
		}
	}
	ldflags = strings.NewReplacer("$(VERSION)", "${VERSION}", "$(COMMIT)", "${COMMIT}").Replace(strings.TrimSpace(ldflags))
	g.Expect(ldflags).To(ContainSubstring("-buildid="))
	g.Expect(string(dockerfile)).To(And(
		ContainSubstring(`CGO_ENABLED=0 go build -trimpath -ldflags "`+ldflags+`"`),
		ContainSubstring("USER 65532:65532"), ContainSubstring(`ENTRYPOINT ["/baosync"]`), ContainSubstring("COPY *.go ./")))
	out, err := exec.Command("go", "list", "-C", testenv.Root(), "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", ".").Output()
	g.Expect(err).NotTo(HaveOccurred())
	for _, dir := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(testenv.Root(), dir)
		g.Expect(err).NotTo(HaveOccurred())
		if top, _, nested := strings.Cut(rel, string(filepath.Separator)); nested {
			g.Expect(string(dockerfile)).To(ContainSubstring("COPY "+top+"/ "+top+"/"), "the operator imports %s", rel)
		}
	}
}
