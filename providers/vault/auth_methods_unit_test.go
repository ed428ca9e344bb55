package vault

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestCredentials_WithBothSourcesTheOneESOUsesWins: ESO's documentation sets
// both token sources; Kubernetes auth then uses the ServiceAccount and JWT auth
// the Secret, as ESO does.
func TestCredentials_WithBothSourcesTheOneESOUsesWins(t *testing.T) {
	store := &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}}
	kube := secrets{"ns/jwt/token": "jwt-from-secret", "ns/sa/token": "long-lived-sa-token"}
	r := &refResolver{kube: kube, store: store}
	sa := &v1alpha1.ServiceAccountSelector{Name: "app"}
	ctx := context.Background()

	k, err := kubernetesCredentials(ctx, r, &v1alpha1.VaultKubernetesAuth{Role: "r", ServiceAccountRef: sa,
		SecretRef: &v1alpha1.SecretKeySelector{Name: "sa", Key: "token"}}, &options{})
	if err != nil {
		t.Fatal(err)
	}
	// The fake cluster issues no ServiceAccount tokens: the error shows which
	// source the login asked for.
	if _, err := k.body(ctx); err == nil || !strings.Contains(err.Error(), "serviceAccountRef") {
		t.Fatalf("kubernetes login body: %v; want a TokenRequest for serviceAccountRef", err)
	}

	j, err := jwtCredentials(ctx, r, &v1alpha1.VaultJwtAuth{Role: "r", SecretRef: &v1alpha1.SecretKeySelector{Name: "jwt", Key: "token"},
		KubernetesServiceAccountToken: &v1alpha1.VaultKubernetesServiceAccountTokenAuth{ServiceAccountRef: *sa}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := j.body(ctx)
	if err != nil || body["jwt"] != "jwt-from-secret" {
		t.Fatalf("jwt login body = %v, %v; want the JWT of secretRef", body, err)
	}
}
