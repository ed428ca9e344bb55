package externalsecret

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/test/testenv"
)

// secretWatch records every event of one Secret from the moment it starts.
type secretWatch struct {
	mu     sync.Mutex
	events []watch.EventType
}

// watchSecret watches ns/name until the test ends.
func watchSecret(t *testing.T, ns, name string) *secretWatch {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.CoreV1().Secrets(ns).Watch(testCtx(t), metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	sw := &secretWatch{}
	go func() {
		for ev := range w.ResultChan() {
			sw.mu.Lock()
			sw.events = append(sw.events, ev.Type)
			sw.mu.Unlock()
		}
	}()
	return sw
}

func (sw *secretWatch) seen() []watch.EventType {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return append([]watch.EventType(nil), sw.events...)
}

// esoSecret creates the Secret ESO would have written for its ExternalSecret
// "app" (creationPolicy Owner): its controller reference, labels and hash.
func esoSecret(t *testing.T, ns string, data map[string]string) {
	t.Helper()
	yes := true
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns,
		Labels:      map[string]string{"reconcile.external-secrets.io/managed": "true", "reconcile.external-secrets.io/created-by": "d41d8cd9", "app": "web"},
		Annotations: map[string]string{"reconcile.external-secrets.io/data-hash": "0f3c"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "external-secrets.io/v1", Kind: "ExternalSecret", Name: "app",
			UID: "6b1c2d3e-0000-4000-8000-000000000001", Controller: &yes}}},
		StringData: data}
	NewWithT(t).Expect(k8s.Create(context.Background(), s)).To(Succeed())
}

// TestCutover_TakesOverESOsSecretWithoutItEverDisappearing is the migration
// guide's cutover, end to end: ESO's Secret in place, baosync's ExternalSecret
// refused until it is annotated, then ownership moves in one update while a
// watch sees the Secret modified and never deleted.
func TestCutover_TakesOverESOsSecretWithoutItEverDisappearing(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("cutover-value")})
	esoSecret(t, ns, map[string]string{"k": "cutover-value"})
	w := watchSecret(t, ns, "app")

	createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k")))
	es := waitReady(t, ns, "app", metav1.ConditionFalse, v1alpha1.ReasonTargetConflict)
	g.Expect(readyMessage(es)).To(ContainSubstring(v1alpha1.AnnotationTakeOver))
	g.Expect(getSecret(t, ns, "app").OwnerReferences[0].APIVersion).To(Equal("external-secrets.io/v1"), "refused: ESO's Secret is untouched")

	update(t, es, func(es *v1alpha1.ExternalSecret) {
		es.Annotations = map[string]string{v1alpha1.AnnotationTakeOver: "true"}
	})
	es = waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	s := getSecret(t, ns, "app")
	g.Expect(s.Data).To(Equal(map[string][]byte{"k": []byte("cutover-value")}))
	g.Expect(s.OwnerReferences).To(HaveLen(1))
	g.Expect(s.OwnerReferences[0].UID).To(Equal(es.UID), "baosync's ExternalSecret is the one owner")
	g.Expect(s.Labels).To(Equal(map[string]string{"app": "web", v1alpha1.LabelManaged: "true"}), "ESO's labels are gone, the user's stay")
	g.Expect(s.Annotations).NotTo(HaveKey("reconcile.external-secrets.io/data-hash"))
	g.Eventually(func() bool { return hasEvent(ctx, ns, "app", v1alpha1.ReasonTakenOver) }, eventually, poll).Should(BeTrue())

	// The application's Secret was modified in place, never deleted.
	g.Consistently(func() []watch.EventType { return w.seen() }, time.Second, poll).ShouldNot(ContainElement(watch.Deleted))
	g.Expect(w.seen()).To(ContainElement(watch.Modified))
}

// TestCutover_AnOrphanSecretIsTakenOverOnlyForTheESOExternalSecretThatWritesIt:
// ESO leaves no record of its ExternalSecret on a creationPolicy Orphan
// Secret, only its managed label, which any Secret can carry. The take-over
// asks ESO's ExternalSecret of the same name whether it writes that Secret.
func TestCutover_AnOrphanSecretIsTakenOverOnlyForTheESOExternalSecretThatWritesIt(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(env.InstallESOCRDs(ctx)).To(Succeed())
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "orphan")
	putKV(t, path, map[string]any{"k": leak.Secret("orphan-value")})
	orphan := func(name string) {
		g.Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels: map[string]string{"reconcile.external-secrets.io/managed": "true"}}, StringData: map[string]string{"k": "old"}})).To(Succeed())
	}
	esoES := func(name, target, policy string) {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec": map[string]any{"secretStoreRef": map[string]any{"name": "eso-store"},
				"target": map[string]any{"name": target, "creationPolicy": policy}}}}
		g.Expect(k8s.Create(ctx, u)).To(Succeed())
	}
	takeOver := func(name string) *v1alpha1.ExternalSecret {
		es := newES(ns, name, "vault", withData("k", path[len("secret/"):], "k"))
		es.Annotations = map[string]string{v1alpha1.AnnotationTakeOver: "true"}
		es.Spec.Target.Name = name + "-secret"
		es.Spec.Target.CreationPolicy = v1alpha1.CreationPolicyOrphan
		createES(t, es)
		return es
	}
	cases := []struct {
		name, target, policy string // ESO's ExternalSecret; "" for none
		want                 string
	}{
		{"written-by-eso", "written-by-eso-secret", "Orphan", v1alpha1.ReasonSecretSynced},
		{"no-eso-object", "", "", v1alpha1.ReasonTargetConflict},
		{"eso-writes-another", "elsewhere", "Orphan", v1alpha1.ReasonTargetConflict},
		{"eso-owns-it", "eso-owns-it-secret", "Owner", v1alpha1.ReasonTargetConflict},
	}
	for _, tc := range cases {
		orphan(tc.name + "-secret")
		if tc.target != "" {
			esoES(tc.name, tc.target, tc.policy)
		}
		takeOver(tc.name)
	}
	// The default role cannot read ESO's objects, and the refusal says what to grant.
	refused := waitReady(t, ns, "written-by-eso", metav1.ConditionFalse, v1alpha1.ReasonTargetConflict)
	g.Expect(readyMessage(refused)).To(ContainSubstring("get on externalsecrets.external-secrets.io"))
	grantESORead(t)
	for _, tc := range cases {
		want := metav1.ConditionFalse
		if tc.want == v1alpha1.ReasonSecretSynced {
			want = metav1.ConditionTrue
		}
		waitReady(t, ns, tc.name, want, tc.want)
		got := string(getSecret(t, ns, tc.name+"-secret").Data["k"])
		g.Expect(got == "orphan-value").To(Equal(tc.want == v1alpha1.ReasonSecretSynced), "%s: the Secret holds %q", tc.name, got)
	}
}

// grantESORead gives the operator get on ESO's ExternalSecrets, as the
// migration guide's cutover of Orphan Secrets does.
func grantESORead(t *testing.T) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "baosync-eso-cutover"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"external-secrets.io"}, Resources: []string{"externalsecrets"}, Verbs: []string{"get"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "baosync-eso-cutover"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: testenv.OperatorServiceAccount, Namespace: testenv.OperatorNamespace}}}
	for _, o := range []client.Object{role, binding} {
		g.Expect(env.Client.Create(ctx, o)).To(Succeed())
	}
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), binding)
		_ = env.Client.Delete(context.Background(), role)
	})
}

// TestCutover_ADeletedConflictingSecretIsCreatedAtOnce: the other documented
// way out of TargetConflict, deleting the Secret, needs no force-sync.
func TestCutover_ADeletedConflictingSecretIsCreatedAtOnce(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("recreated-value")})
	createSecret(t, ns, "app", map[string]string{"k": "someone-elses"})
	createES(t, newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k")))
	waitReady(t, ns, "app", metav1.ConditionFalse, v1alpha1.ReasonTargetConflict)

	g.Expect(k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}})).To(Succeed())
	deleted := time.Now()
	g.Eventually(func() map[string][]byte {
		s := &corev1.Secret{}
		_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, s)
		return s.Data
	}, conflictRetry-time.Second, poll).Should(Equal(map[string][]byte{"k": []byte("recreated-value")}),
		"the watch of the target, not the %s retry, creates it", conflictRetry)
	t.Logf("created %s after the conflicting Secret was deleted", time.Since(deleted).Round(100*time.Millisecond))
}

// TestCutover_AMergeTargetIsFilledWhenItIsCreated: creationPolicy Merge waits
// for its Secret (TargetMissing); creating it merges baosync's keys at once,
// not at the next retry minutes later.
func TestCutover_AMergeTargetIsFilledWhenItIsCreated(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "vault")
	path := kvPath(t, "app")
	putKV(t, path, map[string]any{"k": leak.Secret("merged-value")})
	es := newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"))
	es.Spec.Target.CreationPolicy = v1alpha1.CreationPolicyMerge
	createES(t, es)
	waitReady(t, ns, "app", metav1.ConditionFalse, v1alpha1.ReasonTargetMissing)

	createSecret(t, ns, "app", map[string]string{"own": "kept"})
	g.Eventually(func() map[string]string { return secretData(t, ns, "app") }, 30*time.Second, poll).
		Should(Equal(map[string]string{"own": "kept", "k": "merged-value"}), "the watch of the target merges at once")
}

// hasEvent reports whether an event with reason was recorded for the
// ExternalSecret ns/name.
func hasEvent(ctx context.Context, ns, name, reason string) bool {
	events := &corev1.EventList{}
	_ = k8s.List(ctx, events, client.InNamespace(ns))
	for _, e := range events.Items {
		if e.Reason == reason && e.InvolvedObject.Name == name && e.InvolvedObject.Kind == "ExternalSecret" {
			return true
		}
	}
	return false
}
