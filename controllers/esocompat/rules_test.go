package esocompat

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/baosync/baosync/api/v1alpha1"
)

// apply creates one ESO object from YAML in namespace ns and returns it.
func apply(t *testing.T, ns, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	NewWithT(t).Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
	u.SetNamespace(ns)
	NewWithT(t).Expect(env.Client.Create(context.Background(), u)).To(Succeed())
	return u
}

// esoStore is an ESO SecretStore of the test Vault with the given
// spec.controller ("" for none).
func esoStore(name, class string) string {
	return fmt.Sprintf(`apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: %s}
spec:
  controller: %q
  provider: {vault: {server: %q, path: secret, version: v2, auth: {tokenSecretRef: {name: vault-token, key: token}}}}
`, name, class, env.Vault.Addr)
}

// esoExternalSecret is an ESO ExternalSecret reading key/property "user".
func esoExternalSecret(name, store, key string) string {
	return fmt.Sprintf(`apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: %s}
spec:
  refreshInterval: 1h
  secretStoreRef: {name: %s}
  target: {name: %s}
  data: [{secretKey: user, remoteRef: {key: %s, property: user}}]
`, name, store, name, key)
}

// withESOFinalizer adds the finalizer ESO v1.3 puts on every ExternalSecret
// to an object made by esoExternalSecret.
func withESOFinalizer(doc string) string {
	return strings.Replace(doc, "metadata: {name: ", "metadata: {finalizers: [externalsecrets.external-secrets.io/externalsecret-cleanup], name: ", 1)
}

// tenant creates a namespace with the Secret of the test Vault's token
// (vault-token) and a KV secret compat/<namespace>/app holding user.
func tenant(t *testing.T, user string) (ns, key string) {
	t.Helper()
	ns = newNamespace(t)
	key = fmt.Sprintf("compat/%s/app", ns)
	NewWithT(t).Expect(env.KVPut(context.Background(), "secret/"+key, map[string]any{"user": user})).To(Succeed())
	createSecret(t, ns, "vault-token", map[string]string{"token": env.Vault.Token})
	return ns, key
}

// mirrorOf reads the baosync ExternalSecret mirroring an ESO one.
func mirrorOf(ns, name string) (*v1alpha1.ExternalSecret, error) {
	m := &v1alpha1.ExternalSecret{}
	return m, env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, m)
}

// TestCompat_OnlyStoresOfTheServedESOClassAreServed: a store naming another
// controller class (ESO's, during a migration) is left alone with everything
// that uses it, status included, until its class changes to baosync's.
func TestCompat_OnlyStoresOfTheServedESOClassAreServed(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	ns, key := tenant(t, "alice")
	theirs := apply(t, ns, esoStore("theirs", "eso"))
	apply(t, ns, esoExternalSecret("theirs-app", "theirs", key))
	createSecret(t, ns, "to-push", map[string]string{"token": "pushed"})
	apply(t, ns, fmt.Sprintf(`apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: theirs-push}
spec:
  deletionPolicy: Delete
  secretStoreRefs: [{name: theirs}]
  selector: {secret: {name: to-push}}
  data: [{match: {secretKey: token, remoteRef: {remoteKey: %s-pushed, property: token}}}]
`, key))
	apply(t, ns, esoStore("ours", ""))
	apply(t, ns, esoExternalSecret("ours-app", "ours", key))

	esoReady(t, "ExternalSecret", ns, "ours-app", "True", "SecretSynced")
	g.Consistently(func() bool {
		_, err := mirrorOf(ns, "theirs-app")
		return apierrors.IsNotFound(err) && esoObject(t, "ExternalSecret", ns, "theirs-app").Object["status"] == nil &&
			esoObject(t, "SecretStore", ns, "theirs").Object["status"] == nil
	}, 2*time.Second, poll).Should(BeTrue(), "another class's store and its ExternalSecret are not touched")

	theirs = esoObject(t, "SecretStore", ns, theirs.GetName())
	unstructured.RemoveNestedField(theirs.Object, "spec", "controller")
	g.Expect(env.Client.Update(ctx, theirs)).To(Succeed())
	esoReady(t, "ExternalSecret", ns, "theirs-app", "True", "SecretSynced")
	g.Expect(secret(t, ns, "theirs-app").Data).To(HaveKeyWithValue("user", []byte("alice")), "served once the class is baosync's")
	esoReady(t, "PushSecret", ns, "theirs-push", "True", "Synced")
	g.Expect(remote("secret/data/" + key + "-pushed")()).To(Equal(map[string]any{"token": "pushed"}))

	theirs = esoObject(t, "SecretStore", ns, theirs.GetName())
	g.Expect(unstructured.SetNestedField(theirs.Object, "eso", "spec", "controller")).To(Succeed())
	g.Expect(env.Client.Update(ctx, theirs)).To(Succeed())
	g.Eventually(func() bool {
		m, err := mirrorOf(ns, "theirs-app")
		return apierrors.IsNotFound(err) || m.DeletionTimestamp != nil
	}, eventually, poll).Should(BeTrue(), "handed back: the mirror goes, orphaning the Secret for ESO")
	g.Expect(secret(t, ns, "theirs-app").Data).To(HaveKeyWithValue("user", []byte("alice")))
	g.Eventually(func() []string {
		ps := &v1alpha1.PushSecret{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "theirs-push"}, ps); err != nil {
			return nil
		}
		return ps.Finalizers
	}, eventually, poll).Should(Or(BeEmpty(), Equal([]string{metav1.FinalizerOrphanDependents})),
		"the PushSecret's mirror lets go without its deletionPolicy Delete cleanup")
	g.Expect(remote("secret/data/"+key+"-pushed")()).To(Equal(map[string]any{"token": "pushed"}), "what was pushed stays for ESO")
}

// TestCompat_ADeletedObjectLosesESOsFinalizerAfterItsMirror: ESO puts a
// finalizer on every ExternalSecret; with ESO gone, baosync removes it once
// the mirror is gone, so the deletion does not hang.
func TestCompat_ADeletedObjectLosesESOsFinalizerAfterItsMirror(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	ns, key := tenant(t, "bob")
	apply(t, ns, esoStore("vault", ""))
	es := apply(t, ns, withESOFinalizer(esoExternalSecret("app", "vault", key)))
	esoReady(t, "ExternalSecret", ns, "app", "True", "SecretSynced")

	g.Expect(env.Client.Delete(ctx, es)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(es), es.DeepCopy()))
	}, eventually, poll).Should(BeTrue(), "the ESO object is deleted")
	_, err := mirrorOf(ns, "app")
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "its mirror went first")
}

// TestCompat_TakesOverTheSecretESOWroteInPlace: the Secret ESO wrote (its
// owner reference and marks) is taken over in the update that writes
// baosync's values; it never disappears.
func TestCompat_TakesOverTheSecretESOWroteInPlace(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	ns, key := tenant(t, "from-vault")
	es := apply(t, ns, esoExternalSecret("app", "later", key)) // its store comes later
	failed := esoReady(t, "ExternalSecret", ns, "app", "False", "SecretSyncedError")
	g.Expect(readyCondition(esoStatusMap(failed))["message"]).To(HavePrefix("StoreNotFound: "))

	written := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns,
		Labels: map[string]string{"reconcile.external-secrets.io/managed": "true"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "external-secrets.io/v1", Kind: "ExternalSecret", Name: "app",
			UID: es.GetUID(), Controller: ptr.To(true)}}},
		Data: map[string][]byte{"user": []byte("written-by-eso")}}
	g.Expect(env.Client.Create(ctx, written)).To(Succeed())
	cs, err := kubernetes.NewForConfig(env.Config)
	g.Expect(err).NotTo(HaveOccurred())
	w, err := cs.CoreV1().Secrets(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=app", ResourceVersion: written.ResourceVersion})
	g.Expect(err).NotTo(HaveOccurred())
	var seen []watch.EventType
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			seen = append(seen, ev.Type)
		}
	}()

	apply(t, ns, esoStore("later", ""))
	esoReady(t, "ExternalSecret", ns, "app", "True", "SecretSynced")
	taken := secret(t, ns, "app")
	g.Expect(taken.Data).To(HaveKeyWithValue("user", []byte("from-vault")))
	g.Expect(taken.Labels).NotTo(HaveKey("reconcile.external-secrets.io/managed"))
	g.Expect(metav1.GetControllerOf(taken)).To(HaveField("APIVersion", v1alpha1.GroupVersion.String()))
	w.Stop()
	<-done
	g.Expect(seen).To(ContainElement(watch.Modified))
	g.Expect(seen).NotTo(ContainElement(watch.Deleted), "the Secret never disappears during the takeover")
}

// TestCompat_WhatBaosyncCannotServeIsReportedInESOsStatus: an ESO object that
// does not convert, that baosync's admission refuses (a namespaced store
// borrowing the operator's identity), or whose mirror name is taken by the
// team's own baosync object, gets Ready False with the cause, and a Warning
// event; nothing is written.
func TestCompat_WhatBaosyncCannotServeIsReportedInESOsStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	createSecret(t, ns, "vault-token", map[string]string{"token": env.Vault.Token})
	apply(t, ns, esoStore("vault", ""))
	mine := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "mine", Namespace: ns},
		Spec: v1alpha1.ExternalSecretSpec{SecretStoreRef: v1alpha1.SecretStoreRef{Name: "vault"},
			Data: []v1alpha1.ExternalSecretData{{SecretKey: "k", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "mine", Property: "k"}}}}}
	NewWithT(t).Expect(env.Client.Create(ctx, mine)).To(Succeed())

	cases := []struct {
		name, kind, object, reason, message string
		doc                                 string
	}{
		{name: "a generator kind baosync lacks", kind: "ExternalSecret", object: "ecr", reason: "SecretSyncedError",
			message: "ECRAuthorizationToken", doc: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: ecr}
spec:
  secretStoreRef: {name: vault}
  dataFrom: [{sourceRef: {generatorRef: {apiVersion: generators.external-secrets.io/v1alpha1, kind: ECRAuthorizationToken, name: ecr}}}]
`},
		{name: "a namespaced store that would log in as the operator", kind: "SecretStore", object: "borrow", reason: "InvalidProviderConfig",
			message: "a SecretStore cannot log in with the operator's own identity", doc: `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: borrow}
spec:
  provider: {vault: {server: "https://vault.example.com", auth: {kubernetes: {mountPath: kubernetes, role: app}}}}
`},
		{name: "template finalizers, which would hold the Secret's deletion", kind: "ExternalSecret", object: "held", reason: "SecretSyncedError",
			message: "baosync puts no finalizers on a Secret", doc: strings.Replace(esoExternalSecret("held", "vault", "elsewhere"), "target: {name: held}",
				"target: {name: held, template: {metadata: {finalizers: [example.com/hold]}}}", 1)},
		{name: "a PushSecret choosing its stores by label only", kind: "PushSecret", object: "by-label", reason: "Errored",
			message: "name each store", doc: `apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: by-label}
spec:
  secretStoreRefs: [{labelSelector: {matchLabels: {tier: a}}}]
  selector: {secret: {name: src}}
  data: [{match: {secretKey: k, remoteRef: {remoteKey: x, property: k}}}]
`},
		{name: "a name the team's own baosync object holds", kind: "ExternalSecret", object: "mine", reason: "SecretSyncedError",
			message: "already exists and is not this object's mirror", doc: esoExternalSecret("mine", "vault", "elsewhere")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			apply(t, ns, tc.doc)
			u := esoReady(t, tc.kind, ns, tc.object, "False", tc.reason)
			g.Expect(readyCondition(esoStatusMap(u))["message"]).To(ContainSubstring(tc.message))
			g.Eventually(func() []string { return warnings(ctx, ns, tc.object) }, eventually, poll).
				Should(ContainElement(ContainSubstring(tc.message)))
		})
	}
	g := NewWithT(t)
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(mine), mine)).To(Succeed())
	g.Expect(mine.OwnerReferences).To(BeEmpty(), "the team's own object is not taken")
	g.Expect(mine.Spec.Data[0].RemoteRef.Key).To(Equal("mine"))
	_, err := mirrorOf(ns, "ecr")
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
	g.Expect(apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "borrow"}, &v1alpha1.SecretStore{}))).To(BeTrue())
}

// TestCompat_AFieldServedWithoutIsSaidOnTheESOObject: an object baosync can
// serve without one of its fields (a store's retrySettings: baosync retries
// with its own back-off; a PushSecret entry's metadata, which ESO's Vault
// provider ignores too; a store label selector next to a store's name) is
// served, and a FieldsNotServed Warning event on the ESO object names the
// field, as its Ready message does; nothing is dropped in silence.
func TestCompat_AFieldServedWithoutIsSaidOnTheESOObject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns, key := tenant(t, "dave")
	createSecret(t, ns, "push-src", map[string]string{"k": `{"a":"b"}`})
	apply(t, ns, strings.Replace(esoStore("vault", ""), "  provider:", "  retrySettings: {maxRetries: 3, retryInterval: 10s}\n  provider:", 1))
	apply(t, ns, esoExternalSecret("app", "vault", key))
	apply(t, ns, fmt.Sprintf(`apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: push}
spec:
  secretStoreRefs: [{name: vault, labelSelector: {matchLabels: {tier: a}}}]
  selector: {secret: {name: push-src}}
  dataTo: [{storeRef: {name: vault}, remoteKey: compat/%s/bundle, metadata: {note: x}}]
`, ns))
	esoReady(t, "ExternalSecret", ns, "app", "True", "SecretSynced")
	esoReady(t, "PushSecret", ns, "push", "True", "Synced")
	g := NewWithT(t)
	for object, fields := range map[string][]string{"vault": {"retrySettings"}, "push": {"dataTo[0].metadata", "secretStoreRefs[0].labelSelector"}} {
		kind := map[string]string{"vault": "SecretStore", "push": "PushSecret"}[object]
		for _, field := range fields {
			g.Eventually(func() []string { return warnings(ctx, ns, object) }, eventually, poll).
				Should(ContainElement(And(ContainSubstring("served without"), ContainSubstring(field))), "%s %s", kind, field)
			g.Eventually(func() any {
				return readyCondition(esoStatusMap(esoObject(t, kind, ns, object)))["message"]
			}, eventually, poll).Should(And(ContainSubstring(v1alpha1.ReasonFieldsNotServed), ContainSubstring(field)), "the status of %s says %s too", kind, field)
		}
	}
}

// warnings lists the notes of Warning events about object name in ns.
func warnings(ctx context.Context, ns, name string) []string {
	list := &eventsv1.EventList{}
	if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Type == corev1.EventTypeWarning {
			out = append(out, e.Note)
		}
	}
	return out
}

// TestCompat_AClassedOperatorServesItsStoresAndFinishesTheirDeletions: a
// second operator with --eso-controller-class serves the ESO store of that
// class (the suite's unclassed operator leaves it), marks what it serves,
// keeps serving it while the store is missing, and finishes its deletion,
// ESO's finalizer included.
func TestCompat_AClassedOperatorServesItsStoresAndFinishesTheirDeletions(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	classed, err := env.StartOperator(ctx, bin, "classed-operator", "--eso-compat", "--eso-controller-class=team-x", "--controller-class=team-x")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() {
		classed.Stop()
		log, _ := os.ReadFile(classed.LogPath)
		_, _ = leak.Write(log)
	}()
	ns, key := tenant(t, "carol")
	store := apply(t, ns, esoStore("x", "team-x"))
	es := apply(t, ns, withESOFinalizer(esoExternalSecret("app", "x", key)))

	esoReady(t, "ExternalSecret", ns, "app", "True", "SecretSynced")
	g.Expect(secret(t, ns, "app").Data).To(HaveKeyWithValue("user", []byte("carol")))
	mirrorStore := &v1alpha1.SecretStore{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "x"}, mirrorStore)).To(Succeed())
	g.Expect(mirrorStore.Spec.Controller).To(Equal("team-x"), "the mirror carries the classed operator's own class")
	g.Eventually(func() map[string]string { return esoObject(t, "ExternalSecret", ns, "app").GetAnnotations() }, eventually, poll).
		Should(HaveKeyWithValue(v1alpha1.AnnotationServed, "team-x"))

	g.Expect(env.Client.Delete(ctx, store)).To(Succeed())
	g.Consistently(func() error { _, err := mirrorOf(ns, "app"); return err }, 2*time.Second, poll).
		Should(Succeed(), "a missing store hands nothing over")
	g.Expect(env.Client.Delete(ctx, esoObject(t, "ExternalSecret", ns, "app"))).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(es), es.DeepCopy()))
	}, eventually, poll).Should(BeTrue(), "the deletion finishes, ESO's finalizer removed")
}

// TestCompat_AClusterExternalSecretHandedBackLeavesItsSecretsToESO: the
// ExternalSecret ESO made for a served ClusterExternalSecret loses ESO's
// finalizer when deleted (its parent decides), and when the
// ClusterSecretStore moves to ESO's class the mirror and baosync's
// ExternalSecrets go, leaving the Secret, unowned, for ESO's.
func TestCompat_AClusterExternalSecretHandedBackLeavesItsSecretsToESO(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	ns, key := tenant(t, "dave")
	storeName, name := "css-"+ns, "ces-"+ns
	spec := fmt.Sprintf(`{refreshInterval: 1h, secretStoreRef: {kind: ClusterSecretStore, name: %s}, target: {name: app}, data: [{secretKey: user, remoteRef: {key: %s, property: user}}]}`, storeName, key)
	store := apply(t, "", fmt.Sprintf(`apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: %s}
spec:
  provider: {vault: {server: %q, path: secret, version: v2, auth: {tokenSecretRef: {name: vault-token, key: token, namespace: %s}}}}
`, storeName, env.Vault.Addr, ns))
	ces := apply(t, "", fmt.Sprintf(`apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata: {name: %s}
spec: {externalSecretName: app, namespaces: [%s], externalSecretSpec: %s}
`, name, ns, spec))
	t.Cleanup(func() {
		_ = env.Client.Delete(ctx, ces)
		_ = env.Client.Delete(ctx, store)
	})
	g.Expect(secret(t, ns, "app").Data).To(HaveKeyWithValue("user", []byte("dave")))

	// What ESO's controller would have made: its own ExternalSecret of the same name.
	child := apply(t, ns, fmt.Sprintf(`apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: app
  finalizers: [externalsecrets.external-secrets.io/externalsecret-cleanup]
  ownerReferences: [{apiVersion: external-secrets.io/v1, kind: ClusterExternalSecret, name: %s, uid: %s, controller: true}]
spec: %s
`, name, ces.GetUID(), spec))
	g.Expect(env.Client.Delete(ctx, child)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(child), child.DeepCopy()))
	}, eventually, poll).Should(BeTrue(), "ESO's finalizer is removed: its parent is served")
	_, err := mirrorOf(ns, "app")
	g.Expect(err).NotTo(HaveOccurred(), "baosync's ExternalSecret of that name is not ESO's child's to delete")

	store = esoObject(t, "ClusterSecretStore", "", storeName)
	g.Expect(unstructured.SetNestedField(store.Object, "eso", "spec", "controller")).To(Succeed())
	g.Expect(env.Client.Update(ctx, store)).To(Succeed())
	g.Eventually(func() bool {
		m, err := mirrorOf(ns, "app")
		return apierrors.IsNotFound(err) || m.DeletionTimestamp != nil
	}, eventually, poll).Should(BeTrue(), "handed back: baosync's ExternalSecret goes with the mirror")
	m, err := mirrorOf(ns, "app")
	if err == nil {
		g.Expect(m.Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationKeepOnDelete, "true"))
	}
	// envtest runs no garbage collector: the deletions with propagation Orphan
	// stay pending here, and so does the Secret's owner reference.
	g.Expect(secret(t, ns, "app").Data).To(HaveKeyWithValue("user", []byte("dave")), "the Secret stays for ESO's ExternalSecret")
}
