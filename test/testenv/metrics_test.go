package testenv

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// TestHarness_OperatorProcessServesMetricsToAuthorizedTokensOnly starts the
// operator as production runs it (--metrics-secure, the default) with exactly
// the generated role, which must allow the TokenReviews and
// SubjectAccessReviews of the metrics filter: no token gets 401, a token
// without the metrics-reader role 403, one with it the metrics.
func TestHarness_OperatorProcessServesMetricsToAuthorizedTokensOnly(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := BuildOperator(ctx, t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	op, err := env.StartOperator(ctx, bin, "secure-metrics", "--metrics-secure=true")
	g.Expect(err).NotTo(HaveOccurred())
	defer op.Stop()

	b, err := os.ReadFile(filepath.Join(Root(), "config", "rbac", "metrics_reader_role.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	reader := &rbacv1.ClusterRole{}
	g.Expect(yaml.Unmarshal(b, reader)).To(Succeed())
	reader.Name = "baosync-metrics-reader"
	const ns = "metrics-scrapers"
	for _, o := range []clientObject{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "prometheus", Namespace: ns}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nosy", Namespace: ns}},
		reader,
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "prometheus-baosync-metrics"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: reader.Name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: ns}}},
	} {
		g.Expect(env.Client.Create(ctx, o)).To(Succeed())
	}
	token := func(sa string) string {
		tr := &authenticationv1.TokenRequest{}
		g.Expect(env.Client.SubResource("token").Create(ctx,
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns}}, tr)).To(Succeed())
		return tr.Status.Token
	}
	// The certificate is self-signed, as in a default install.
	hc := &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed by design
	scrape := func(bearer string) (int, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+op.MetricsAddr+"/metrics", nil)
		g.Expect(err).NotTo(HaveOccurred())
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := hc.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer func() { _ = res.Body.Close() }()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	status := func(bearer string) func() int { return func() int { c, _ := scrape(bearer); return c } }
	g.Eventually(status(""), time.Minute, 200*time.Millisecond).Should(Equal(http.StatusUnauthorized), "log: %s", op.LogPath)
	g.Eventually(status(token("nosy")), 30*time.Second, 200*time.Millisecond).Should(Equal(http.StatusForbidden))
	g.Eventually(status(token("prometheus")), 30*time.Second, 200*time.Millisecond).Should(Equal(http.StatusOK))
	_, body := scrape(token("prometheus"))
	g.Expect(body).To(ContainSubstring("# HELP"))
	g.Expect(op.Exited()).To(BeFalse())
}
