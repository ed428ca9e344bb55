package pushsecret

import (
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// entries is what ps pushes of src to store.
func entries(ps *v1alpha1.PushSecret, store v1alpha1.GenericStore, src *corev1.Secret) ([]entry, error) {
	p, err := newPlan(ps, src)
	if err != nil {
		return nil, err
	}
	return p.forStore(store)
}

// TestEntries_ExpandDataToAsESODoes: how data and dataTo become pushes for
// one store, without a server.
func TestEntries_ExpandDataToAsESODoes(t *testing.T) {
	store := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "vault", Labels: map[string]string{"tier": "prod"}}}
	src := &corev1.Secret{Data: map[string][]byte{"app-a": []byte(`{}`), "app-b": []byte(`{}`), "db_U002e_user": []byte("u"), "x": []byte("1")}}
	named := v1alpha1.PushSecretDataToStoreRef{Name: "vault"}
	perKey := func(re string, rw ...v1alpha1.ExternalSecretRewrite) v1alpha1.PushSecretDataTo {
		return v1alpha1.PushSecretDataTo{StoreRef: named, Match: &v1alpha1.PushSecretDataToMatch{RegExp: re}, Rewrite: rw}
	}
	data := func(key, remote, property string) v1alpha1.PushSecretData {
		return v1alpha1.PushSecretData{Match: v1alpha1.PushSecretMatch{SecretKey: key, RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: remote, Property: property}}}
	}
	for _, tc := range []struct {
		name   string
		spec   v1alpha1.PushSecretSpec
		want   []string // "remoteKey#property<-key"
		reason string
	}{
		{name: "per-key mode pushes each matched key to its own name, sorted",
			spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{perKey("^app-")}},
			want: []string{"app-a#<-app-a", "app-b#<-app-b"}},
		{name: "rewrite renames the remote keys",
			spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{perKey("^app-", v1alpha1.ExternalSecretRewrite{
				Regexp: &v1alpha1.RewriteRegexp{Source: "^app-", Target: "apps/"}}, v1alpha1.ExternalSecretRewrite{
				Transform: &v1alpha1.RewriteTransform{Template: "{{ .value | upper }}"}})}},
			want: []string{"APPS/A#<-app-a", "APPS/B#<-app-b"}},
		{name: "remoteKey bundles the matched keys into one push",
			spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{{StoreRef: named, RemoteKey: "bundle"}}},
			want: []string{"bundle#<-"}},
		{name: "a label selector picks the store by its labels",
			spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{{RemoteKey: "bundle",
				StoreRef: v1alpha1.PushSecretDataToStoreRef{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "prod"}}}}}},
			want: []string{"bundle#<-"}},
		{name: "an entry for another store or kind is skipped",
			spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{{RemoteKey: "b", StoreRef: v1alpha1.PushSecretDataToStoreRef{Name: "other"}},
				{RemoteKey: "c", StoreRef: v1alpha1.PushSecretDataToStoreRef{Name: "vault", Kind: v1alpha1.SecretStoreKindCluster}}}}},
		{name: "a data entry wins over dataTo for the same key of the Secret",
			spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{perKey("^app-")}, Data: []v1alpha1.PushSecretData{data("app-a", "mine", "p")}},
			want: []string{"app-b#<-app-b", "mine#p<-app-a"}},
		{name: "ReverseUnicode reads escaped key names before matching",
			spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{{StoreRef: named, Match: &v1alpha1.PushSecretDataToMatch{RegExp: `^db\.`},
				ConversionStrategy: v1alpha1.PushConversionReverseUnicode}}},
			want: []string{"db.user#<-db.user"}},
		{name: "no key matching pushes nothing",
			spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{perKey("^none")}}},
		{name: "two entries to the same remote secret are refused",
			spec:   v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{perKey("^app-a$")}, Data: []v1alpha1.PushSecretData{data("x", "app-a", "")}},
			reason: v1alpha1.ReasonInvalidSpec},
		{name: "a rewrite to an empty remote key is refused",
			spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{perKey("^x$", v1alpha1.ExternalSecretRewrite{
				Regexp: &v1alpha1.RewriteRegexp{Source: ".*", Target: ""}})}},
			reason: v1alpha1.ReasonInvalidSpec},
		{name: "an invalid regexp is refused",
			spec:   v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{perKey("(")}},
			reason: v1alpha1.ReasonInvalidSpec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := entries(&v1alpha1.PushSecret{Spec: tc.spec}, store, src)
			if tc.reason != "" {
				g.Expect(err).To(HaveOccurred())
				g.Expect(outcome.As(err, "").Reason).To(Equal(tc.reason))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			var pushes []string
			for _, e := range got {
				pushes = append(pushes, fmt.Sprintf("%s#%s<-%s", e.remote.RemoteKey, e.remote.Property, e.key))
			}
			g.Expect(pushes).To(Equal(tc.want))
		})
	}
}

// TestEntries_ABundleHoldsOnlyItsMatchedKeys: the JSON object of a bundle is
// made of the keys its match selects, not the whole Secret.
func TestEntries_ABundleHoldsOnlyItsMatchedKeys(t *testing.T) {
	g := NewWithT(t)
	src := &corev1.Secret{Data: map[string][]byte{"DB_USER": []byte("u"), "DB_PASS": []byte("p"), "other": []byte("o")}}
	ps := &v1alpha1.PushSecret{Spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{{
		StoreRef: v1alpha1.PushSecretDataToStoreRef{Name: "s"}, Match: &v1alpha1.PushSecretDataToMatch{RegExp: "^DB_"}, RemoteKey: "db"}}}}
	got, err := entries(ps, &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, src)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(HaveLen(1))
	value, err := sourceValue("src", got[0])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(value)).To(Equal(`{"DB_PASS":"p","DB_USER":"u"}`))
}

// TestEntries_TooManyPushesAreRefused: a Secret with more matching keys than
// maxEntries does not turn into as many requests.
func TestEntries_TooManyPushesAreRefused(t *testing.T) {
	src := &corev1.Secret{Data: map[string][]byte{}}
	for i := range maxEntries + 1 {
		src.Data[fmt.Sprintf("k%d", i)] = []byte("{}")
	}
	ps := &v1alpha1.PushSecret{Spec: v1alpha1.PushSecretSpec{DataTo: []v1alpha1.PushSecretDataTo{{StoreRef: v1alpha1.PushSecretDataToStoreRef{Name: "s"}}}}}
	_, err := entries(ps, &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, src)
	NewWithT(t).Expect(outcome.As(err, "").Reason).To(Equal(v1alpha1.ReasonInvalidSpec))
}
