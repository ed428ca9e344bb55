package v1alpha1_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestAdmission_SourceRef(t *testing.T) {
	other := &v1alpha1.SecretStoreRef{Name: "other", Kind: v1alpha1.SecretStoreKindCluster}
	gen := &v1alpha1.GeneratorRef{Kind: "Password", Name: "p"}
	extract := &v1alpha1.ExternalSecretDataRemoteRef{Key: "app"}
	dataFrom := func(df v1alpha1.ExternalSecretDataFromRemoteRef) *v1alpha1.ExternalSecret {
		return externalSecret(func(s *v1alpha1.ExternalSecretSpec) { s.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{df} })
	}
	cases := []struct {
		name   string
		obj    *v1alpha1.ExternalSecret
		reject string // part of the API server's message; empty: accepted
	}{
		{name: "accepts a data entry read from another store", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.Data[0].SourceRef = &v1alpha1.StoreSourceRef{StoreRef: *other}
		})},
		{name: "accepts extract from another store", obj: dataFrom(v1alpha1.ExternalSecretDataFromRemoteRef{Extract: extract,
			SourceRef: &v1alpha1.StoreGeneratorSourceRef{StoreRef: other}})},
		{name: "accepts find from another store", obj: dataFrom(v1alpha1.ExternalSecretDataFromRemoteRef{Find: &v1alpha1.ExternalSecretFind{},
			SourceRef: &v1alpha1.StoreGeneratorSourceRef{StoreRef: other}})},
		{name: "refuses a storeRef with nothing to read", obj: dataFrom(v1alpha1.ExternalSecretDataFromRemoteRef{
			SourceRef: &v1alpha1.StoreGeneratorSourceRef{StoreRef: other}}), reject: "set exactly one of extract, find and sourceRef.generatorRef"},
		{name: "refuses a storeRef with both extract and find", obj: dataFrom(v1alpha1.ExternalSecretDataFromRemoteRef{Extract: extract, Find: &v1alpha1.ExternalSecretFind{},
			SourceRef: &v1alpha1.StoreGeneratorSourceRef{StoreRef: other}}), reject: "set exactly one of extract, find and sourceRef.generatorRef"},
		{name: "refuses both storeRef and generatorRef", obj: dataFrom(v1alpha1.ExternalSecretDataFromRemoteRef{
			SourceRef: &v1alpha1.StoreGeneratorSourceRef{StoreRef: other, GeneratorRef: gen}}), reject: "set exactly one of storeRef and generatorRef"},
		{name: "refuses an empty sourceRef", obj: dataFrom(v1alpha1.ExternalSecretDataFromRemoteRef{Extract: extract,
			SourceRef: &v1alpha1.StoreGeneratorSourceRef{}}), reject: "set exactly one of storeRef and generatorRef"},
		{name: "refuses extract next to a generatorRef", obj: dataFrom(v1alpha1.ExternalSecretDataFromRemoteRef{Extract: extract,
			SourceRef: &v1alpha1.StoreGeneratorSourceRef{GeneratorRef: gen}}), reject: "set exactly one of extract, find and sourceRef.generatorRef"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := k8s.Create(context.Background(), tc.obj)
			if tc.reject == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.reject)))
		})
	}
}
