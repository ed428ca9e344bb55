package v1alpha1_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

func ptr[T any](v T) *T { return &v }

func vaultDynamic(auth v1alpha1.VaultAuth) *v1alpha1.VaultDynamicSecret {
	return &v1alpha1.VaultDynamicSecret{ObjectMeta: metav1.ObjectMeta{GenerateName: "d-", Namespace: "default"},
		Spec: v1alpha1.VaultDynamicSecretSpec{Path: "database/creds/app",
			Provider: &v1alpha1.VaultProvider{Server: "https://bao.example.com", Auth: auth}}}
}

func TestAdmission_Generators(t *testing.T) {
	token := v1alpha1.VaultAuth{TokenSecretRef: &v1alpha1.SecretKeySelector{Name: "t", Key: "token"}}
	gen := func(ref v1alpha1.GeneratorRef) []v1alpha1.ExternalSecretDataFromRemoteRef {
		return []v1alpha1.ExternalSecretDataFromRemoteRef{{SourceRef: &v1alpha1.StoreGeneratorSourceRef{GeneratorRef: &ref}}}
	}
	cases := []struct {
		name   string
		obj    client.Object
		reject string
	}{
		{name: "accepts a Password with ESO's defaults", obj: &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{GenerateName: "p-", Namespace: "default"}}},
		{name: "refuses more digits and symbols than the length", obj: &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{GenerateName: "p-", Namespace: "default"},
			Spec: v1alpha1.PasswordSpec{Length: 8, Digits: ptr(5), Symbols: ptr(5)}}, reject: "digits plus symbols"},
		{name: "refuses an unknown password encoding", obj: &v1alpha1.Password{ObjectMeta: metav1.ObjectMeta{GenerateName: "p-", Namespace: "default"},
			Spec: v1alpha1.PasswordSpec{Length: 8, Encoding: ptr("rot13")}}, reject: "encoding"},
		{name: "accepts a VaultDynamicSecret with a token", obj: vaultDynamic(token)},
		{name: "refuses a namespaced VaultDynamicSecret logging in as the operator", obj: vaultDynamic(v1alpha1.VaultAuth{
			Kubernetes: &v1alpha1.VaultKubernetesAuth{Role: "r"}}), reject: "operator's own identity"},
		{name: "refuses a ClusterGenerator whose spec does not match its kind", obj: &v1alpha1.ClusterGenerator{ObjectMeta: metav1.ObjectMeta{GenerateName: "cg-"},
			Spec: v1alpha1.ClusterGeneratorSpec{Kind: v1alpha1.GeneratorKindPassword, Generator: v1alpha1.GeneratorSpec{UUIDSpec: &v1alpha1.UUIDSpec{}}}},
			reject: "kind Password needs generator.passwordSpec"},
		{name: "accepts a dataFrom generatorRef", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.DataFrom = gen(v1alpha1.GeneratorRef{Kind: "Password", Name: "pw"})
		})},
		{name: "accepts a generator-only ExternalSecret without secretStoreRef, as ESO does", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.SecretStoreRef, s.Data = v1alpha1.SecretStoreRef{}, nil
			s.DataFrom = gen(v1alpha1.GeneratorRef{Kind: "Password", Name: "pw"})
		})},
		{name: "accepts entries that each name their store without secretStoreRef", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.SecretStoreRef = v1alpha1.SecretStoreRef{}
			s.Data = []v1alpha1.ExternalSecretData{{SecretKey: "k", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "app"},
				SourceRef: &v1alpha1.StoreSourceRef{StoreRef: v1alpha1.SecretStoreRef{Name: "other"}}}}
		})},
		{name: "refuses a data entry with no store when secretStoreRef is left out", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.SecretStoreRef = v1alpha1.SecretStoreRef{}
			s.DataFrom = gen(v1alpha1.GeneratorRef{Kind: "Password", Name: "pw"})
			s.Data = []v1alpha1.ExternalSecretData{{SecretKey: "k", RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: "app"}}}
		}), reject: "secretStoreRef is required unless every data entry names its store"},
		{name: "refuses a generatorRef of an unknown kind", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.DataFrom = gen(v1alpha1.GeneratorRef{Kind: "ECRAuthorizationToken", Name: "x"})
		}), reject: "kind"},
		{name: "refuses a dataFrom entry with both extract and a generatorRef", obj: externalSecret(func(s *v1alpha1.ExternalSecretSpec) {
			s.DataFrom = gen(v1alpha1.GeneratorRef{Kind: "UUID", Name: "id"})
			s.DataFrom[0].Extract = &v1alpha1.ExternalSecretDataRemoteRef{Key: "app"}
		}), reject: "set exactly one of extract, find and sourceRef.generatorRef"},
		{name: "refuses a PushSecret selector with both a Secret and a generator", obj: &v1alpha1.PushSecret{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "ps-", Namespace: "default"}, Spec: v1alpha1.PushSecretSpec{
				SecretStoreRefs: []v1alpha1.SecretStoreRef{{Name: "vault"}},
				Selector: v1alpha1.PushSecretSelector{Secret: &v1alpha1.PushSecretSecret{Name: "src"},
					GeneratorRef: &v1alpha1.GeneratorRef{Kind: "Password", Name: "pw"}},
				Data: []v1alpha1.PushSecretData{{Match: v1alpha1.PushSecretMatch{RemoteRef: v1alpha1.PushSecretRemoteRef{RemoteKey: "k"}}}}}},
			reject: "set exactly one of secret and generatorRef"},
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
