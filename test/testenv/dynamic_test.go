package testenv

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestDynamic_DatabaseCredentialLogsInUntilItsLeaseIsRevoked(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	g.Expect(env.DatabaseRole(ctx, "harness", time.Minute, 2*time.Minute)).To(Succeed())
	pg, err := env.Postgres(ctx)
	g.Expect(err).NotTo(HaveOccurred())

	sec, err := env.VaultClient.Logical().ReadWithContext(ctx, "database/creds/harness")
	g.Expect(err).NotTo(HaveOccurred())
	user, pass := sec.Data["username"].(string), sec.Data["password"].(string)
	g.Expect(pg.TryLogin(ctx, user, pass)).To(Succeed())
	g.Expect(pg.TryLogin(ctx, user, pass+"x")).NotTo(Succeed(), "TCP logins must check the password")
	ttl, found, err := env.LeaseLookup(ctx, sec.LeaseID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(found).To(BeTrue())
	g.Expect(ttl).To(BeNumerically(">", 30*time.Second))

	_, err = env.Write(ctx, "sys/leases/revoke", map[string]any{"lease_id": sec.LeaseID})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pg.TryLogin(ctx, user, pass)).NotTo(Succeed())
	exists, err := pg.RoleExists(ctx, user)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(exists).To(BeFalse())
	_, found, err = env.LeaseLookup(ctx, sec.LeaseID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(found).To(BeFalse())
}

func TestDynamic_PKIRoleIssuesACertificate(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g.Expect(env.PKIRole(ctx, "harness", time.Hour)).To(Succeed())
	got, err := env.Write(ctx, "pki/issue/harness", map[string]any{"common_name": "web.example"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(HaveKey("certificate"))
	g.Expect(got).To(HaveKey("private_key"))
	g.Expect(got).To(HaveKey("issuing_ca"))
}
