package clusterexternalsecret

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

const wait = 30 * time.Second

func namespace(t *testing.T, labels map[string]string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("c-%08x", rand.Uint32()), Labels: labels}}
	NewWithT(t).Expect(k8s.Create(context.Background(), ns)).To(Succeed())
	return ns.Name
}

func newCES(name string, namespaces []string, selector map[string]string) *v1alpha1.ClusterExternalSecret {
	ces := &v1alpha1.ClusterExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ClusterExternalSecretSpec{
			Namespaces:             namespaces,
			ExternalSecretName:     "shared",
			ExternalSecretMetadata: v1alpha1.ExternalSecretTemplateMetadata{Labels: map[string]string{"team": "platform"}},
			ExternalSecretSpec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "vault", Kind: v1alpha1.SecretStoreKindCluster},
				Data: []v1alpha1.ExternalSecretData{{SecretKey: "k", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "shared/app", Property: "k"}}}}}}
	if selector != nil {
		ces.Spec.NamespaceSelectors = []*metav1.LabelSelector{{MatchLabels: selector}}
	}
	return ces
}

// externalSecret returns the ExternalSecret "shared" in ns, or nil.
func externalSecret(t *testing.T, ns string) *v1alpha1.ExternalSecret {
	es := &v1alpha1.ExternalSecret{}
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shared"}, es)
	if apierrors.IsNotFound(err) {
		return nil
	}
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return es
}

func TestClusterExternalSecret_FollowsTheSelectedNamespaces(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	key := fmt.Sprintf("sel-%08x", rand.Uint32())
	listed := namespace(t, nil)
	labelled := namespace(t, map[string]string{key: "yes"})
	other := namespace(t, nil)
	ces := newCES("ces-"+key, []string{listed}, map[string]string{key: "yes"})
	// kubectl's last-applied record is not a template's to hand down: the
	// ExternalSecret cache does not keep it, so every reconcile would update.
	ces.Spec.ExternalSecretMetadata.Annotations = map[string]string{"note": "x", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
	g.Expect(k8s.Create(ctx, ces)).To(Succeed())

	for _, ns := range []string{listed, labelled} {
		g.Eventually(func() *v1alpha1.ExternalSecret { return externalSecret(t, ns) }, wait, 100*time.Millisecond).ShouldNot(BeNil())
		es := externalSecret(t, ns)
		g.Expect(metav1.IsControlledBy(es, ces)).To(BeTrue(), "owned by the ClusterExternalSecret")
		g.Expect(es.Labels).To(HaveKeyWithValue("team", "platform"))
		g.Expect(es.Annotations).To(Equal(map[string]string{"note": "x"}))
		g.Expect(es.Spec.Data).To(Equal(ces.Spec.ExternalSecretSpec.Data))
	}
	g.Expect(externalSecret(t, other)).To(BeNil())
	g.Eventually(func() []string {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(ces), ces)
		return ces.Status.ProvisionedNamespaces
	}, wait, 100*time.Millisecond).Should(ConsistOf(listed, labelled))

	// A namespace that loses its label loses the ExternalSecret; one that gains it gets one.
	relabel := func(name string, labels map[string]string) {
		ns := &corev1.Namespace{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, ns)).To(Succeed())
		ns.Labels = labels
		g.Expect(k8s.Update(ctx, ns)).To(Succeed())
	}
	relabel(labelled, nil)
	relabel(other, map[string]string{key: "yes"})
	g.Eventually(func() *v1alpha1.ExternalSecret { return externalSecret(t, labelled) }, wait, 100*time.Millisecond).Should(BeNil())
	g.Eventually(func() *v1alpha1.ExternalSecret { return externalSecret(t, other) }, wait, 100*time.Millisecond).ShouldNot(BeNil())

	// A change of the spec reaches every ExternalSecret.
	g.Eventually(func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ces), ces); err != nil {
			return err
		}
		ces.Spec.ExternalSecretSpec.Data[0].RemoteRef.Property = "changed"
		return k8s.Update(ctx, ces)
	}, wait, 100*time.Millisecond).Should(Succeed())
	g.Eventually(func() string { return externalSecret(t, listed).Spec.Data[0].RemoteRef.Property }, wait, 100*time.Millisecond).Should(Equal("changed"))
}

func TestClusterExternalSecret_LeavesAnExternalSecretItDoesNotOwnAndSaysSo(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := namespace(t, nil)
	mine := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: ns},
		Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "own"},
			Data: []v1alpha1.ExternalSecretData{{SecretKey: "x", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "mine"}}}}}
	g.Expect(k8s.Create(ctx, mine)).To(Succeed())
	ces := newCES(fmt.Sprintf("ces-%08x", rand.Uint32()), []string{ns}, nil)
	g.Expect(k8s.Create(ctx, ces)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ces), ces)).To(Succeed())
		g.Expect(ces.Status.FailedNamespaces).To(ConsistOf(HaveField("Namespace", ns)))
		g.Expect(ces.Status.Conditions).To(ContainElement(And(HaveField("Reason", v1alpha1.ReasonNamespacesFailed), HaveField("Status", metav1.ConditionFalse))))
	}, wait, 100*time.Millisecond).Should(Succeed())
	g.Expect(externalSecret(t, ns).Spec.SecretStoreRef.Name).To(Equal("own"), "the user's ExternalSecret is untouched")
}

// TestClusterExternalSecret_BeingDeletedProvisionsNothingMore: a
// ClusterExternalSecret whose deletion is pending (here held by a finalizer,
// as propagation Orphan holds it until the garbage collector is done) makes
// no ExternalSecret in a namespace it would select, nor again one that was
// deleted.
func TestClusterExternalSecret_BeingDeletedProvisionsNothingMore(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	key := fmt.Sprintf("del-%08x", rand.Uint32())
	first := namespace(t, map[string]string{key: "yes"})
	ces := newCES("ces-"+key, nil, map[string]string{key: "yes"})
	ces.Finalizers = []string{"test.baosync.io/hold"}
	g.Expect(k8s.Create(ctx, ces)).To(Succeed())
	g.Eventually(func() *v1alpha1.ExternalSecret { return externalSecret(t, first) }, wait, 100*time.Millisecond).ShouldNot(BeNil())

	g.Expect(k8s.Delete(ctx, ces)).To(Succeed())
	g.Expect(k8s.Delete(ctx, externalSecret(t, first))).To(Succeed())
	second := namespace(t, map[string]string{key: "yes"})
	g.Consistently(func() []*v1alpha1.ExternalSecret {
		var made []*v1alpha1.ExternalSecret
		for _, ns := range []string{first, second} {
			if es := externalSecret(t, ns); es != nil && es.DeletionTimestamp == nil {
				made = append(made, es)
			}
		}
		return made
	}, 2*time.Second, 100*time.Millisecond).Should(BeEmpty())

	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ces), ces)).To(Succeed())
	ces.Finalizers = nil
	g.Expect(k8s.Update(ctx, ces)).To(Succeed())
}
