package desired

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

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
