package externalsecret

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/ledger"
)

// parseCert parses the first PEM certificate.
func parseCert(g Gomega, b []byte) *x509.Certificate {
	block, _ := pem.Decode(b)
	g.Expect(block).NotTo(BeNil(), "no PEM block")
	c, err := x509.ParseCertificate(block.Bytes)
	g.Expect(err).NotTo(HaveOccurred())
	return c
}

func TestLease_PKICertificateBecomesATLSSecretAndIsReissuedAtTwoThirdsOfItsValidityWithARolloutRestart(t *testing.T) {
	t.Parallel() // own namespace, PKI role and generator
	g := NewWithT(t)
	ns := newNamespace(t)
	role := "web-" + ns
	g.Expect(env.PKIRole(context.Background(), role, 12*time.Second)).To(Succeed())
	tokenStore(t, ns, "vault")
	dynamicToken(t, ns)
	createDynamic(t, ns, "cert", "pki/issue/"+role, func(s *v1alpha1.VaultDynamicSecretSpec) {
		s.Method = "POST"
		s.Parameters = jsonParams(t, map[string]any{"common_name": "web.example", "ttl": "12s"})
	})
	es := newES(ns, "web-tls", "vault", withGenerator("VaultDynamicSecret", "cert"))
	es.Spec.Target.Template = &v1alpha1.ExternalSecretTemplate{Type: corev1.SecretTypeTLS, Data: map[string]string{
		"tls.crt": `{{ .certificate }}{{ range (.ca_chain | fromJson) }}{{ "\n" }}{{ . }}{{ end }}`,
		"tls.key": `{{ .private_key }}`,
		"ca.crt":  `{{ .issuing_ca }}`,
	}}
	es.Spec.RefreshPolicy = v1alpha1.RefreshPolicyCreatedOnce // rotation follows the certificate, not the policy
	es.Spec.Target.RolloutRestartTargets = []v1alpha1.RolloutRestartTarget{{Kind: "Deployment", Name: "web"}}
	g.Expect(env.GrantRolloutRestart(context.Background(), ns)).To(Succeed())
	deploy := createDeployment(t, ns, "web")
	createES(t, es)
	synced := waitReady(t, ns, "web-tls", metav1.ConditionTrue, v1alpha1.ReasonSecretSynced)
	sec := getSecret(t, ns, "web-tls")
	g.Expect(sec.Type).To(Equal(corev1.SecretTypeTLS))
	leak.Secret(string(sec.Data["tls.key"]))
	first := parseCert(g, sec.Data["tls.crt"])
	g.Expect(first.Subject.CommonName).To(Equal("web.example"))
	g.Expect(sec.Data["ca.crt"]).NotTo(BeEmpty())
	rotation := synced.Status.Generated[0].RotationTime
	g.Expect(rotation).NotTo(BeNil())
	life := first.NotAfter.Sub(first.NotBefore)
	g.Expect(rotation.Time).To(BeTemporally("~", first.NotBefore.Add(life*67/100), life/10+time.Second))

	// At two thirds of its validity (before it expires) a new certificate replaces it.
	g.Eventually(func(g Gomega) {
		now := getSecret(t, ns, "web-tls")
		c := parseCert(g, now.Data["tls.crt"])
		g.Expect(c.SerialNumber).NotTo(Equal(first.SerialNumber))
		leak.Secret(string(now.Data["tls.key"]))
	}, eventually, poll).Should(Succeed())
	g.Expect(time.Now()).To(BeTemporally("<", first.NotAfter), "the certificate was replaced only after it expired")
	// The rotation restarts the workloads and says so.
	g.Eventually(func() string { return restartedAtOf(t, deploy) }, eventually, poll).ShouldNot(BeEmpty())
	g.Eventually(func() []string { return eventReasons(t, ns, "web-tls") }, eventually, poll).
		Should(ContainElements(ledger.EventCredentialIssued, "RolloutRestarted"))
}
