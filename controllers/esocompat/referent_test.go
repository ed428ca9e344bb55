package esocompat

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/esoconvert"
)

// referentManifests is an ESO ClusterSecretStore with referent
// authentication (a serviceAccountRef without a namespace) and an
// ExternalSecret that uses it, as ESO's documentation writes them.
const referentManifests = `apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: referent-STORE
spec:
  provider:
    vault:
      server: VAULT
      path: secret
      version: v2
      auth:
        kubernetes:
          mountPath: kubernetes
          role: ROLE
          serviceAccountRef:
            name: eso-reader
            audiences: [vault]
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: referent
spec:
  refreshInterval: 1h
  secretStoreRef:
    kind: ClusterSecretStore
    name: referent-STORE
  target:
    name: referent
  data:
  - secretKey: password
    remoteRef:
      key: eso-referent/NAMESPACE
      property: password
`

// TestCompat_ReferentAuthSyncsConvertedAndUnconverted: ESO's referent
// ClusterSecretStore logs each namespace in with its own ServiceAccount,
// whether converted by baosync convert or served unconverted.
func TestCompat_ReferentAuthSyncsConvertedAndUnconverted(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	converted, unconverted := newNamespace(t), newNamespace(t)
	role := "eso-referent-" + converted
	g.Expect(env.KubernetesRole(ctx, role, converted, "eso-reader")).To(Succeed()) // the mount, once
	_, err := env.Write(ctx, "auth/kubernetes/role/"+role, map[string]any{"bound_service_account_names": "eso-reader",
		"bound_service_account_namespaces": converted + "," + unconverted, "audience": "vault", "token_policies": "read", "token_ttl": "30s"})
	g.Expect(err).NotTo(HaveOccurred())
	manifests := func(ns string) []byte {
		r := strings.NewReplacer("STORE", ns, "VAULT", env.Vault.Addr, "ROLE", role, "NAMESPACE", ns)
		return []byte(r.Replace(referentManifests))
	}
	for _, ns := range []string{converted, unconverted} {
		g.Expect(env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "eso-reader", Namespace: ns}})).To(Succeed())
		g.Expect(env.KVPut(ctx, "secret/eso-referent/"+ns, map[string]any{"password": leak.Secret("referent-pw-" + ns)})).To(Succeed())
	}

	var out bytes.Buffer
	_, err = esoconvert.Convert(bytes.NewReader(manifests(converted)), &out)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.String()).NotTo(ContainSubstring("namespace: "+converted+"\n        audiences"), "convert must keep the reference without a namespace")
	createAll(t, converted, out.Bytes())
	createAll(t, unconverted, manifests(unconverted))
	t.Cleanup(func() {
		for _, ns := range []string{converted, unconverted} {
			_ = env.Client.Delete(context.Background(), &v1alpha1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "referent-" + ns}})
		}
	})

	g.Eventually(func() string { return baosyncReady(ctx, converted, "referent") }, eventually, poll).Should(Equal(v1alpha1.ReasonSecretSynced))
	esoReady(t, "ExternalSecret", unconverted, "referent", "True", "SecretSynced")
	for _, ns := range []string{converted, unconverted} {
		g.Expect(secret(t, ns, "referent").Data).To(Equal(map[string][]byte{"password": []byte("referent-pw-" + ns)}), fmt.Sprintf("namespace %s", ns))
	}
}
