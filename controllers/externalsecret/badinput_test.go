package externalsecret

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestBadInput_ReportsTheReasonAndWritesNothing feeds remote data Kubernetes or
// the spec cannot use, and checks the Reason, the hint, and that no Secret appears.
func TestBadInput_ReportsTheReasonAndWritesNothing(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	cases := []struct {
		name   string
		remote map[string]any
		es     func(key string) esOpt
		reason string
		hint   string
	}{{
		// Vault caps one JSON string below 1 MiB, so three properties add up to more.
		name:   "values over Kubernetes' 1 MiB limit",
		remote: map[string]any{"a": strings.Repeat("z", 400*1024), "b": strings.Repeat("y", 400*1024), "c": strings.Repeat("x", 400*1024)},
		es: func(key string) esOpt {
			return func(es *v1alpha1.ExternalSecret) {
				es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: key}}}
			}
		},
		reason: v1alpha1.ReasonSecretTooLarge, hint: "over Kubernetes' limit",
	}, {
		// Without a rewrite an extract's names are made valid keys, as in ESO
		// ("has space" becomes "has_space"); a rewrite names the keys itself.
		name:   "a remote key a rewrite leaves invalid as a Secret key",
		remote: map[string]any{"has space": "v"},
		es: func(key string) esOpt {
			return func(es *v1alpha1.ExternalSecret) {
				es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: key},
					Rewrite: []v1alpha1.ExternalSecretRewrite{{Regexp: &v1alpha1.RewriteRegexp{Source: "^has", Target: "with"}}}}}
			}
		},
		reason: v1alpha1.ReasonInvalidSpec, hint: `into "with space", which is not a valid Secret key`,
	}, {
		name:   "a property path into a value that is not JSON",
		remote: map[string]any{"k": leak.Secret("plain-string-value")},
		es:     func(key string) esOpt { return withData("x", key, "k.inner") },
		reason: v1alpha1.ReasonPropertyNotFound, hint: `property "k.inner"`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			tokenStore(t, ns, "vault")
			path := kvPath(t, "app")
			putKV(t, path, tc.remote)
			createES(t, newES(ns, "app", "vault", tc.es(path[len("secret/"):])))
			got := waitReady(t, ns, "app", metav1.ConditionFalse, tc.reason)
			g.Expect(readyMessage(got)).To(ContainSubstring(tc.hint))
			g.Expect(getSecret(t, ns, "app")).To(BeNil())
		})
	}
}
