package v1alpha1_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// TestGitOps_EverySampleAppliesTwiceWithoutADiff applies every sample of
// config/samples as Argo CD and Flux do (server-side apply, their own field
// manager), twice: the API server adds nothing to a spec (no defaulted
// field for a GitOps tool to report as OutOfSync, ESO's issues #6398, #6797
// and #6887), and the second apply changes nothing and conflicts with nothing.
func TestGitOps_EverySampleAppliesTwiceWithoutADiff(t *testing.T) {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gitops-samples"}}
	NewWithT(t).Expect(k8s.Create(ctx, ns)).To(Succeed())
	files, err := filepath.Glob("../../config/samples/*.yaml")
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	applied := 0
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(file)
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		// The samples' placeholders, as a user fills them in.
		b = bytes.ReplaceAll(b, []byte("OPERATOR_NAMESPACE"), []byte("baosync-system"))
		b = bytes.ReplaceAll(b, []byte("CA_BUNDLE_BASE64"), []byte("Y2E="))
		for _, doc := range bytes.Split(b, []byte("\n---")) {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &u.Object); err != nil || len(u.Object) == 0 || !strings.HasPrefix(u.GetAPIVersion(), "baosync.io/") {
				continue
			}
			applied++
			t.Run(filepath.Base(file)+"#"+u.GetKind()+"/"+u.GetName(), func(t *testing.T) {
				expectNoDiff(ctx, t, u, ns.Name)
			})
		}
	}
	NewWithT(t).Expect(applied).To(BeNumerically(">=", 15), "the samples were found")
}

// expectNoDiff server-side applies u twice and compares the live spec with
// u's.
func expectNoDiff(ctx context.Context, t *testing.T, u *unstructured.Unstructured, ns string) {
	g := NewWithT(t)
	namespaced, err := k8s.IsObjectNamespaced(u)
	g.Expect(err).NotTo(HaveOccurred())
	if namespaced {
		u.SetNamespace(ns)
	}
	apply := func() *unstructured.Unstructured {
		g.Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner("argocd-controller"))).
			To(Succeed(), "a conflict or an admission error")
		obj := u.DeepCopy()
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(u), obj)).To(Succeed())
		return obj
	}
	first := apply()
	second := apply()
	g.Expect(second.GetResourceVersion()).To(Equal(first.GetResourceVersion()), "the second apply changed the object")
	want, _ := json.Marshal(u.Object["spec"])
	got, _ := json.Marshal(second.Object["spec"])
	g.Expect(string(got)).To(MatchJSON(string(want)), "the API server added to the spec")
	g.Expect(len(second.GetManagedFields())).To(BeNumerically("<=", 1), "one field manager at most: the GitOps tool's")
}
