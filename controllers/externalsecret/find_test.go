package externalsecret

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestFind(t *testing.T) {
	t.Parallel() // own namespace, store and KV path
	cases := []struct {
		name   string
		find   func(root string) v1alpha1.ExternalSecretFind
		steps  []v1alpha1.ExternalSecretRewrite
		want   map[string]string
		reason string
	}{{
		name: "finds secrets by name under a path, one key each, as JSON",
		find: func(root string) v1alpha1.ExternalSecretFind {
			return v1alpha1.ExternalSecretFind{Path: &root, Name: &v1alpha1.FindName{RegExp: "(^|/)(db|cache)$"}}
		},
		want: map[string]string{"ROOT_db": `{"pw":"find-db"}`, "ROOT_team_cache": `{"pw":"find-cache"}`},
	}, {
		name: "finds secrets by custom-metadata tags",
		find: func(root string) v1alpha1.ExternalSecretFind {
			return v1alpha1.ExternalSecretFind{Path: &root, Tags: map[string]string{"env": "prod"}}
		},
		want: map[string]string{"ROOT_db": `{"pw":"find-db"}`},
	}, {
		name: "rewrites keys with a regexp and then a template",
		find: func(root string) v1alpha1.ExternalSecretFind {
			return v1alpha1.ExternalSecretFind{Path: &root, Name: &v1alpha1.FindName{RegExp: "(^|/)(db|cache)$"}}
		},
		steps: []v1alpha1.ExternalSecretRewrite{
			{Regexp: &v1alpha1.RewriteRegexp{Source: `^.*_([a-z]+)$`, Target: "$1"}},
			{Transform: &v1alpha1.RewriteTransform{Template: `{{ .value | upper }}.json`}},
		},
		want: map[string]string{"DB.json": `{"pw":"find-db"}`, "CACHE.json": `{"pw":"find-cache"}`},
	}, {
		name: "refuses a rewrite that maps two keys to one",
		find: func(root string) v1alpha1.ExternalSecretFind {
			return v1alpha1.ExternalSecretFind{Path: &root, Name: &v1alpha1.FindName{RegExp: "(^|/)(db|cache)$"}}
		},
		steps:  []v1alpha1.ExternalSecretRewrite{{Regexp: &v1alpha1.RewriteRegexp{Source: `.*`, Target: "same"}}},
		reason: v1alpha1.ReasonInvalidSpec,
	}, {
		name: "refuses an invalid name regexp",
		find: func(root string) v1alpha1.ExternalSecretFind {
			return v1alpha1.ExternalSecretFind{Path: &root, Name: &v1alpha1.FindName{RegExp: "(unclosed"}}
		},
		reason: v1alpha1.ReasonInvalidSpec,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ctx := context.Background()
			ns := newNamespace(t)
			tokenStore(t, ns, "vault")
			root := fmt.Sprintf("find-%08x", rand.Uint32())
			putKV(t, "secret/"+root+"/db", map[string]any{"pw": leak.Secret("find-db")})
			putKV(t, "secret/"+root+"/team/cache", map[string]any{"pw": leak.Secret("find-cache")})
			putKV(t, "secret/"+root+"/other", map[string]any{"pw": "find-other"})
			_, err := env.Write(ctx, "secret/metadata/"+root+"/db", map[string]any{"custom_metadata": map[string]any{"env": "prod"}})
			g.Expect(err).NotTo(HaveOccurred())
			f := tc.find(root)
			createES(t, newES(ns, "app", "vault", func(es *v1alpha1.ExternalSecret) {
				es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Find: &f, Rewrite: tc.steps}}
			}))
			if tc.reason != "" {
				waitReady(t, ns, "app", metav1.ConditionFalse, tc.reason)
				g.Expect(getSecret(t, ns, "app")).To(BeNil())
				return
			}
			waitReady(t, ns, "app", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
			want := map[string]string{}
			for k, v := range tc.want {
				want[strings.ReplaceAll(k, "ROOT", strings.ReplaceAll(root, "/", "_"))] = v
			}
			g.Expect(secretData(t, ns, "app")).To(Equal(want))
		})
	}
}
