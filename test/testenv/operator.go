package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// Operator identity used by tests: the ServiceAccount the manifests install.
const (
	OperatorNamespace      = "baosync-system"
	OperatorServiceAccount = "baosync"
)

// OperatorConfig returns a rest config that impersonates the operator's
// ServiceAccount, bound to exactly the ClusterRole in config/rbac/role.yaml.
// A permission the code needs but the generated role lacks fails the tests.
func (e *Env) OperatorConfig(ctx context.Context) (*rest.Config, error) {
	b, err := os.ReadFile(filepath.Join(Root(), "config", "rbac", "role.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read generated role: %w", err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(b, role); err != nil {
		return nil, fmt.Errorf("parse generated role: %w", err)
	}
	role.Name = "baosync-manager-role"
	leases, err := leaderElectionRole()
	if err != nil {
		return nil, err
	}
	objs := []clientObject{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: OperatorNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: OperatorServiceAccount, Namespace: OperatorNamespace}},
		role,
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "baosync-manager-rolebinding"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: OperatorServiceAccount, Namespace: OperatorNamespace}},
		},
		leases,
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "baosync-leader-election", Namespace: OperatorNamespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: leases.Name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: OperatorServiceAccount, Namespace: OperatorNamespace}},
		},
	}
	for _, o := range objs {
		if err := e.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create %T: %w", o, err)
		}
	}
	cfg := rest.CopyConfig(e.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: fmt.Sprintf("system:serviceaccount:%s:%s", OperatorNamespace, OperatorServiceAccount),
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + OperatorNamespace, "system:authenticated"},
	}
	return cfg, nil
}

// GrantRolloutRestart gives the operator's ServiceAccount the opt-in
// permission of config/components/rollout-restart (the ClusterRole there, which
// the generated role lacks): bound by a RoleBinding in each of namespaces, as
// the chart does for a namespace-scoped install, or cluster-wide when none is
// named. Without it, rolloutRestartTargets end in RolloutRestartFailed.
func (e *Env) GrantRolloutRestart(ctx context.Context, namespaces ...string) error {
	return e.grantComponent(ctx, "rollout-restart", namespaces...)
}

// GrantESOCompat gives the operator's ServiceAccount the opt-in permissions
// of config/components/eso-compat (generated from controllers/esocompat),
// cluster-wide, as --eso-compat needs them.
func (e *Env) GrantESOCompat(ctx context.Context) error {
	return e.grantComponent(ctx, "eso-compat")
}

// grantComponent binds the ClusterRole of config/components/<component>/role.yaml
// to the operator's ServiceAccount in each of namespaces, or cluster-wide
// when none is named.
func (e *Env) grantComponent(ctx context.Context, component string, namespaces ...string) error {
	b, err := os.ReadFile(filepath.Join(Root(), "config", "components", component, "role.yaml"))
	if err != nil {
		return fmt.Errorf("read %s role: %w", component, err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(b, role); err != nil {
		return fmt.Errorf("parse %s role: %w", component, err)
	}
	role.Name = "baosync-" + component
	ref := rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name}
	subjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: OperatorServiceAccount, Namespace: OperatorNamespace}}
	objs := []clientObject{role}
	if len(namespaces) == 0 {
		objs = append(objs, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name}, RoleRef: ref, Subjects: subjects})
	}
	for _, ns := range namespaces {
		objs = append(objs, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name, Namespace: ns}, RoleRef: ref, Subjects: subjects})
	}
	for _, o := range objs {
		if err := e.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %T: %w", o, err)
		}
	}
	return nil
}

// leaderElectionRole reads the Role of config/rbac/leader_election_role.yaml
// (the first document) and places it in the operator's namespace.
func leaderElectionRole() (*rbacv1.Role, error) {
	b, err := os.ReadFile(filepath.Join(Root(), "config", "rbac", "leader_election_role.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read leader election role: %w", err)
	}
	for _, doc := range strings.Split(string(b), "\n---") {
		role := &rbacv1.Role{}
		if err := yaml.Unmarshal([]byte(doc), role); err == nil && role.Kind == "Role" {
			role.Namespace = OperatorNamespace
			return role, nil
		}
	}
	return nil, fmt.Errorf("no Role in config/rbac/leader_election_role.yaml")
}

// OperatorKubeconfig writes a kubeconfig that reaches the API server as the
// operator's ServiceAccount (impersonated, with the generated ClusterRole) and
// returns its path, for running bin/baosync as a separate process.
func (e *Env) OperatorKubeconfig(ctx context.Context) (string, error) {
	if _, err := e.OperatorConfig(ctx); err != nil {
		return "", err
	}
	b, err := os.ReadFile(e.Kubeconfig)
	if err != nil {
		return "", fmt.Errorf("read admin kubeconfig: %w", err)
	}
	kc := map[string]any{}
	if err := yaml.Unmarshal(b, &kc); err != nil {
		return "", fmt.Errorf("parse admin kubeconfig: %w", err)
	}
	users, _ := kc["users"].([]any)
	for _, u := range users {
		if um, ok := u.(map[string]any); ok {
			if user, ok := um["user"].(map[string]any); ok {
				user["as"] = fmt.Sprintf("system:serviceaccount:%s:%s", OperatorNamespace, OperatorServiceAccount)
				user["as-groups"] = []string{"system:serviceaccounts", "system:serviceaccounts:" + OperatorNamespace, "system:authenticated"}
			}
		}
	}
	out, err := yaml.Marshal(kc)
	if err != nil {
		return "", fmt.Errorf("render operator kubeconfig: %w", err)
	}
	path := filepath.Join(e.Dir, "operator.kubeconfig")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return "", fmt.Errorf("write operator kubeconfig: %w", err)
	}
	return path, nil
}
