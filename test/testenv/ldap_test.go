package testenv

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// TestLDAP_VaultLogsInAUserOfTheRealDirectory: slapd accepts a user's bind
// with its password only, and Vault's ldap auth method, configured against
// it, issues a token with the policy of the user's group.
func TestLDAP_VaultLogsInAUserOfTheRealDirectory(t *testing.T) {
	t.Parallel() // own slapd and auth mount
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := LDAPForTest(t)
	g.Expect(s.AddUser(ctx, "alice", "alice-pw", "readers")).To(Succeed())
	g.Expect(s.Bind(ctx, s.UserDN("alice"), "alice-pw")).To(Succeed())
	g.Expect(s.Bind(ctx, s.UserDN("alice"), "wrong")).NotTo(Succeed())

	g.Expect(env.LDAPAuth(ctx, "ldap-harness", s, "readers")).To(Succeed())
	login, err := env.VaultClient.Logical().WriteWithContext(ctx, "auth/ldap-harness/login/alice", map[string]any{"password": "alice-pw"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(login.Auth.Policies).To(ContainElement("read"))
	_, err = env.VaultClient.Logical().WriteWithContext(ctx, "auth/ldap-harness/login/alice", map[string]any{"password": "wrong"})
	g.Expect(err).To(MatchError(ContainSubstring("invalid")))
}
