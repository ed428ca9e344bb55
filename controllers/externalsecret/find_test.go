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
	"github.com/baosync/baosync/controllers/internal/outcome"
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

// TestExtractedKeys_AsESOConvertsThem: the property names of an extract
// become valid keys as in ESO v2 (esutils.ConvertKeys), without a server.
func TestExtractedKeys_AsESOConvertsThem(t *testing.T) {
	in := map[string][]byte{"db/user": nil, "a b": nil, "ok-1.x_y": nil}
	for _, tc := range []struct {
		strategy v1alpha1.ConversionStrategy
		want     []string
	}{
		{"", []string{"db_user", "a_b", "ok-1.x_y"}},
		{v1alpha1.ConversionStrategyDefault, []string{"db_user", "a_b", "ok-1.x_y"}},
		{v1alpha1.ConversionStrategyUnicode, []string{"db_U002f_user", "a_U0020_b", "ok-1.x_y"}},
	} {
		out, err := extractedKeys(in, tc.strategy)
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		NewWithT(t).Expect(out).To(HaveLen(3))
		for _, k := range tc.want {
			NewWithT(t).Expect(out).To(HaveKey(k), "strategy %q", tc.strategy)
		}
	}
	_, err := extractedKeys(map[string][]byte{"a/b": nil, "a_b": nil}, "")
	NewWithT(t).Expect(outcome.As(err, "").Reason).To(Equal(v1alpha1.ReasonInvalidSpec), "two properties that become one key")
}

func TestRewriteAndConvertKey(t *testing.T) {
	g := NewWithT(t)
	g.Expect(convertKey("a/b c/é", v1alpha1.ConversionStrategyDefault)).To(Equal("a_b c_é"))
	g.Expect(convertKey("a/b c/é", v1alpha1.ConversionStrategyUnicode)).To(Equal("a_b_U0020_c__U00e9_"))
	out, err := rewrite(map[string][]byte{"app_db": []byte("x")}, []v1alpha1.ExternalSecretRewrite{
		{Regexp: &v1alpha1.RewriteRegexp{Source: "^app_", Target: ""}}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(HaveKey("db"))
	_, err = rewrite(map[string][]byte{"a": nil}, []v1alpha1.ExternalSecretRewrite{{Regexp: &v1alpha1.RewriteRegexp{Source: "a", Target: "a/b"}}})
	g.Expect(outcome.As(err, "").Reason).To(Equal(v1alpha1.ReasonInvalidSpec))
}

func FuzzRewrite(f *testing.F) {
	for _, s := range []string{"^app_", "(.*)", "[", "a|b", `\d+`} {
		f.Add(s, "$1")
	}
	f.Fuzz(func(t *testing.T, source, target string) {
		_, _ = rewrite(map[string][]byte{"app_db": nil, "x": nil}, []v1alpha1.ExternalSecretRewrite{
			{Regexp: &v1alpha1.RewriteRegexp{Source: source, Target: target}}})
	})
}
