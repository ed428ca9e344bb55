package externalsecret

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestErrors_LeaveThePreviousSecretUntouched breaks a synced ExternalSecret in
// each way a user can, and checks the Reason, the event, and that the Secret
// is byte-for-byte what it was.
func TestErrors_LeaveThePreviousSecretUntouched(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	cases := []struct {
		name    string
		breakIt func(t *testing.T, es *v1alpha1.ExternalSecret, path string)
		reason  string
		hint    string // part of the message that tells the user what to fix
	}{{
		name: "a store that does not exist",
		breakIt: func(t *testing.T, es *v1alpha1.ExternalSecret, _ string) {
			update(t, es, func(es *v1alpha1.ExternalSecret) { es.Spec.SecretStoreRef.Name = "nope" })
		},
		reason: v1alpha1.ReasonStoreNotFound, hint: `SecretStore "nope": not found in namespace`,
	}, {
		name: "a store that cannot log in",
		breakIt: func(t *testing.T, es *v1alpha1.ExternalSecret, _ string) {
			createSecret(t, es.Namespace, "bad-token", map[string]string{"token": "hvs.revoked"})
			createStore(t, es.Namespace, "broken", v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "bad-token", Key: "token"}})
			waitStoreReady(t, es.Namespace, "broken", metav1.ConditionFalse, v1alpha1.ReasonAuthFailed)
			update(t, es, func(es *v1alpha1.ExternalSecret) { es.Spec.SecretStoreRef.Name = "broken" })
		},
		reason: v1alpha1.ReasonStoreNotReady, hint: "the store is not ready (AuthFailed)",
	}, {
		name: "a remote path that does not exist",
		breakIt: func(t *testing.T, es *v1alpha1.ExternalSecret, _ string) {
			update(t, es, func(es *v1alpha1.ExternalSecret) {
				es.Spec.Data = append(es.Spec.Data, v1alpha1.ExternalSecretData{SecretKey: "x", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "no/such/path"}})
			})
		},
		reason: v1alpha1.ReasonRemoteNotFound, hint: "no/such/path",
	}, {
		name: "a property that does not exist",
		breakIt: func(t *testing.T, es *v1alpha1.ExternalSecret, _ string) {
			update(t, es, func(es *v1alpha1.ExternalSecret) { es.Spec.Data[0].RemoteRef.Property = "nosuchprop" })
		},
		reason: v1alpha1.ReasonPropertyNotFound, hint: `property "nosuchprop"`,
	}, {
		name: "a value that is not valid base64",
		breakIt: func(t *testing.T, es *v1alpha1.ExternalSecret, _ string) {
			update(t, es, func(es *v1alpha1.ExternalSecret) {
				es.Spec.Data[0].RemoteRef.DecodingStrategy = v1alpha1.DecodingStrategyBase64
			})
		},
		reason: v1alpha1.ReasonDecodingFailed, hint: "decodingStrategy",
	}, {
		name: "a rotated auth Secret whose credentials are wrong",
		breakIt: func(t *testing.T, es *v1alpha1.ExternalSecret, _ string) {
			s := getSecret(t, es.Namespace, "approle")
			update(t, s, func(s *corev1.Secret) { s.Data["secret-id"] = []byte("00000000-0000-0000-0000-000000000000") })
			// The cached client keeps its valid token until it compares the auth
			// material with the cluster again (every 2s in this suite): sync
			// again until a sync has seen the rotation.
			syncUntilReason(t, es, v1alpha1.ReasonAuthFailed)
		},
		reason: v1alpha1.ReasonAuthFailed, hint: "approle",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			roleID, secretID := appRole(t, "err-"+ns)
			createSecret(t, ns, "approle", map[string]string{"secret-id": secretID})
			createStore(t, ns, "vault", v1alpha1.VaultAuth{AppRole: &v1alpha1.VaultAppRole{RoleID: &roleID,
				SecretRef: v1alpha1.SecretKeySelector{Name: "approle", Key: "secret-id"}}})
			path := kvPath(t, "app")
			putKV(t, path, map[string]any{"k": leak.Secret("must-survive! not base64")})
			es := newES(ns, "app", "vault", withData("k", path[len("secret/"):], "k"))
			createES(t, es)
			waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
			before := getSecret(t, ns, "app")

			tc.breakIt(t, es, path)
			got := waitReady(t, ns, "app", metav1.ConditionFalse, tc.reason)
			g.Expect(readyMessage(got)).To(ContainSubstring(tc.hint))
			g.Expect(readyMessage(got)).To(ContainSubstring(`SecretStore "`), "the message names the store")
			after := getSecret(t, ns, "app")
			g.Expect(after.ResourceVersion).To(Equal(before.ResourceVersion), "the Secret was written")
			g.Expect(after.Data).To(Equal(before.Data))
			g.Eventually(func() []string { return eventReasons(t, ns, "app") }, eventually, poll).Should(ContainElement(tc.reason))
		})
	}
}

func TestAccess_ASecretStoreIsInvisibleFromOtherNamespaces(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	owner, other := newNamespace(t), newNamespace(t)
	tokenStore(t, owner, "vault")
	createES(t, newES(other, "app", "vault", withData("k", "any", "k")))
	got := waitReady(t, other, "app", metav1.ConditionFalse, v1alpha1.ReasonStoreNotFound)
	NewWithT(t).Expect(readyMessage(got)).To(ContainSubstring("namespace " + other))
}

func TestAccess_ClusterSecretStoreConditions(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	cases := []struct {
		name   string
		labels []string
		conds  func(ns string) []v1alpha1.ClusterSecretStoreCondition
		reason string
	}{
		{name: "no conditions allow every namespace", conds: func(string) []v1alpha1.ClusterSecretStoreCondition { return nil },
			reason: v1alpha1.ReasonSecretSynced},
		{name: "a namespace list that names the namespace allows it", conds: func(ns string) []v1alpha1.ClusterSecretStoreCondition {
			return []v1alpha1.ClusterSecretStoreCondition{{Namespaces: []string{"elsewhere", ns}}}
		}, reason: v1alpha1.ReasonSecretSynced},
		{name: "a label selector that matches allows it", labels: []string{"team", "payments"}, conds: func(string) []v1alpha1.ClusterSecretStoreCondition {
			return []v1alpha1.ClusterSecretStoreCondition{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "payments"}}}}
		}, reason: v1alpha1.ReasonSecretSynced},
		{name: "a regex that matches allows it", conds: func(string) []v1alpha1.ClusterSecretStoreCondition {
			return []v1alpha1.ClusterSecretStoreCondition{{NamespaceRegexes: []string{"^t-[0-9a-f]+$"}}}
		}, reason: v1alpha1.ReasonSecretSynced},
		{name: "conditions that exclude the namespace refuse it", labels: []string{"team", "web"}, conds: func(string) []v1alpha1.ClusterSecretStoreCondition {
			return []v1alpha1.ClusterSecretStoreCondition{{Namespaces: []string{"prod"}}, {NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "payments"}}}}
		}, reason: v1alpha1.ReasonStoreNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t, tc.labels...)
			tokNs := testenvNamespace(t)
			createSecret(t, tokNs, "root-token", map[string]string{"token": env.Vault.Token})
			path := "secret"
			css := &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "css-" + ns}, Spec: v1alpha1.SecretStoreSpec{
				Conditions: tc.conds(ns),
				Provider: v1alpha1.SecretStoreProvider{Vault: &v1alpha1.VaultProvider{Server: env.Vault.Addr, Path: &path, Version: v1alpha1.VaultKVStoreV2,
					Auth: v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "root-token", Key: "token", Namespace: &tokNs}}}}}}
			g.Expect(k8s.Create(context.Background(), css)).To(Succeed())
			kv := kvPath(t, "app")
			putKV(t, kv, map[string]any{"k": leak.Secret("cluster-store-value")})
			createES(t, newES(ns, "app", css.Name, withData("k", kv[len("secret/"):], "k"), func(es *v1alpha1.ExternalSecret) {
				es.Spec.SecretStoreRef.Kind = v1alpha1.SecretStoreKindCluster
			}))
			status := metav1.ConditionTrue
			if tc.reason != v1alpha1.ReasonSecretSynced {
				status = metav1.ConditionFalse
			}
			waitReady(t, ns, "app", status, tc.reason)
			if status == metav1.ConditionFalse {
				g.Expect(getSecret(t, ns, "app")).To(BeNil())
			}
		})
	}
}

// syncUntilReason forces a sync, again every half second, until Ready has
// reason: for a change the operator notices only on a later sync.
func syncUntilReason(t *testing.T, es *v1alpha1.ExternalSecret, reason string) {
	t.Helper()
	n := 0
	NewWithT(t).Eventually(func() string {
		n++
		forceSync(t, es, fmt.Sprintf("until-%s-%d", reason, n))
		got := &v1alpha1.ExternalSecret{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(es), got); err != nil {
			return err.Error()
		}
		if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady); c != nil {
			return c.Reason
		}
		return ""
	}, eventually, 500*time.Millisecond).Should(Equal(reason))
}

// testenvNamespace creates a namespace for shared material, like an operator's own.
func testenvNamespace(t *testing.T) string { return newNamespace(t) }

// eventReasons lists the reasons of the events about an object.
func eventReasons(t *testing.T, ns, name string) []string {
	list := &eventsv1.EventList{}
	NewWithT(t).Expect(k8s.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && strings.EqualFold(e.Regarding.Kind, "ExternalSecret") {
			out = append(out, e.Reason)
		}
	}
	return out
}

func TestAccess_StoresOfAnotherControllerClassAreLeftAlone(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	g := NewWithT(t)
	ns := newNamespace(t)
	tokenStore(t, ns, "other", func(v *v1alpha1.VaultProvider) {})
	store := &v1alpha1.SecretStore{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "other"}, store)).To(Succeed())
	update(t, store, func(s *v1alpha1.SecretStore) { s.Spec.Controller = "someone-else" })
	createES(t, newES(ns, "app", "other", withData("k", "any", "k")))
	es := &v1alpha1.ExternalSecret{}
	g.Consistently(func(g Gomega) {
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, es)).To(Succeed())
		g.Expect(es.Status.Conditions).To(BeEmpty())
	}, 3*time.Second, 200*time.Millisecond).Should(Succeed())
	g.Expect(getSecret(t, ns, "app")).To(BeNil())
}
