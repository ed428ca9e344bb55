package chart

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestHelm_UninstallKeepsCRDsAndEveryUserObject installs the chart with bin/helm
// on the real API server (over CRDs that existed before, adopted as
// docs/upgrading.md says), creates the objects users create (stores, an
// ExternalSecret and the Secret it owns), switches crds.install off with
// `helm upgrade`, then runs `helm uninstall`: the release's own objects go;
// the CRDs and every user object stay.
func TestHelm_UninstallKeepsCRDsAndEveryUserObject(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const release, ns, apps = "keep", "baosync-helm", "helm-apps"
	adoptCRDs(t, release, ns)
	mustHelm(t, "install", release, chartDir(), "--namespace", ns, "--create-namespace", "--wait=false")
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "keep-baosync"}, &appsv1.Deployment{})).To(Succeed())
	for _, name := range crdNames(t) {
		crd := crdMeta()
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: name}, crd)).To(Succeed())
		g.Expect(crd.Annotations).To(HaveKeyWithValue("meta.helm.sh/release-name", release))
		g.Expect(crd.Annotations).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"))
	}

	createNamespace(t, apps)
	g.Expect(env.TokenStore(ctx, apps, "vault")).To(Succeed())
	es := syncedExternalSecret(apps, "app", "vault", "chart/keep")
	g.Expect(env.Client.Create(ctx, es)).To(Succeed())
	// The Secret as the operator writes it: owned by the ExternalSecret.
	g.Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: apps,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "ExternalSecret",
			Name: es.Name, UID: es.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Data: map[string][]byte{"v": []byte("kept")}})).To(Succeed())
	path := "secret"
	css := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "helm-keep"}, Spec: v1alpha1.SecretStoreSpec{
		Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path,
			Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "tok", Key: "token", Namespace: ptr.To(apps)}}}}}}
	g.Expect(env.Client.Create(ctx, css)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), css) })

	// Switching the CRDs off leaves them (keep), as does the uninstall.
	mustHelm(t, "upgrade", release, chartDir(), "--namespace", ns, "--wait=false", "--set", "crds.install=false")
	mustHelm(t, "uninstall", release, "--namespace", ns, "--wait=false")
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "keep-baosync"}, &appsv1.Deployment{}))
	}, 30*time.Second, 200*time.Millisecond).Should(BeTrue(), "the release's Deployment is gone")
	g.Expect(apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKey{Name: "keep-baosync"}, &rbacv1.ClusterRole{}))).To(BeTrue())
	for _, name := range crdNames(t) {
		crd := crdMeta()
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: name}, crd)).To(Succeed(), name)
		g.Expect(crd.DeletionTimestamp).To(BeNil(), name)
	}
	g.Consistently(func(g Gomega) {
		for name, o := range map[string]client.Object{"vault": &v1alpha1.SecretStore{}, "app": &v1alpha1.ExternalSecret{}, "tok": &corev1.Secret{}} {
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: apps, Name: name}, o)).To(Succeed())
			g.Expect(o.GetDeletionTimestamp()).To(BeNil())
		}
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(css), &v1alpha1.ClusterSecretStore{})).To(Succeed())
		g.Expect(secretValue(ctx, apps, "app")).To(Equal("kept"))
	}, 3*time.Second, 500*time.Millisecond).Should(Succeed())
}

// crdMeta is an empty CustomResourceDefinition's metadata, to read with the
// harness's client (whose scheme has no apiextensions types).
func crdMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	return m
}
