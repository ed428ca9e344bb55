package ledger

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/metrics"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/internal/operatorkey"
	"github.com/baosync/baosync/providers"
	providerfake "github.com/baosync/baosync/providers/fake"
	"github.com/baosync/baosync/test/testenv"
)

// unitNow is the fake clock's time in the unit tables.
var unitNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// unitLedger returns a Ledger over an in-memory API (holding objs), a fake
// clock at unitNow and an event recorder the test can read.
func unitLedger(t *testing.T, objs ...client.Object) (*Ledger, *events.FakeRecorder) {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(testenv.NewScheme()).WithObjects(objs...).Build()
	rec := events.NewFakeRecorder(100)
	return &Ledger{Client: c, APIReader: c, Recorder: rec, Metrics: metrics.New(prometheus.NewRegistry()),
		Clock: clocktesting.NewFakeClock(unitNow), LeaseKey: operatorkey.Static([]byte("baosync test lease key, 32 bytes"))}, rec
}

func TestCurrent_KeepsRenewsOrReissuesTheLease(t *testing.T) {
	const path = "database/creds/app"
	res := &generator.Resolved{Kind: v1alpha1.GeneratorKindVaultDynamicSecret, Name: "db", Namespace: "ns",
		Spec: v1alpha1.GeneratorSpec{VaultDynamicSecretSpec: &v1alpha1.VaultDynamicSecretSpec{Path: path,
			RotationGracePeriod: &metav1.Duration{Duration: time.Minute}}}}
	res.Hash = generator.HashOf(res)
	kept := func(renewIn, expiresIn time.Duration) generatorstate.Entry {
		return generatorstate.Entry{Values: map[string][]byte{"username": []byte("user-1")}, Hash: res.Hash, GeneratedAt: unitNow.Add(-time.Hour),
			Lease: &generator.Lease{ID: path + "/lease-1", Duration: time.Hour, Renewable: true, IssueTime: unitNow.Add(-time.Hour),
				Expires: unitNow.Add(expiresIn), Increment: time.Hour, RenewAt: unitNow.Add(renewIn), Path: path, Token: providerfake.FakeToken}}
	}
	type token struct {
		end   time.Time
		held  bool
		fresh bool // the end is the new login's, not the kept lease's
	}
	tests := []struct {
		name      string
		kept      generatorstate.Entry
		token     *token
		renewErr  error
		wantCalls []string
		wantLease string
		wantUser  string
		retired   int
		event     string
		says      string // in the event's message
	}{
		{name: "a fresh lease is kept without a request", kept: kept(time.Minute, time.Hour),
			wantLease: path + "/lease-1", wantUser: "user-1"},
		{name: "a lease due is renewed and kept", kept: kept(-time.Second, 20*time.Minute),
			wantCalls: []string{"renew:" + path + "/lease-1"}, wantLease: path + "/lease-1", wantUser: "user-1"},
		{name: "a renewal that fails for a passing reason keeps the still valid credential", kept: kept(-time.Second, 20*time.Minute),
			renewErr: fmt.Errorf("down: %w", providers.ErrUnavailable), wantCalls: []string{"renew:" + path + "/lease-1"},
			wantLease: path + "/lease-1", wantUser: "user-1", event: EventLeaseRenewalFailed},
		{name: "a refused renewal issues a new credential and retires the old lease", kept: kept(-time.Second, 20*time.Minute),
			renewErr: fmt.Errorf("gone: %w", providers.ErrLeaseGone), wantCalls: []string{"renew:" + path + "/lease-1", "generate:" + path},
			wantLease: path + "/lease-2", wantUser: "user-2", retired: 1, event: EventCredentialIssued},
		{name: "an expired credential is never kept, and its lease, gone by itself, is not revoked", kept: kept(-time.Hour, -time.Second),
			wantCalls: []string{"generate:" + path}, wantLease: path + "/lease-2", wantUser: "user-2", event: EventCredentialIssued},
		{name: "a lease whose token is renewed without a known end is kept", kept: kept(time.Minute, time.Hour),
			token: &token{held: true}, wantLease: path + "/lease-1", wantUser: "user-1"},
		{name: "a lease whose token ends soon is replaced before the token takes it down", kept: kept(time.Minute, time.Hour),
			token: &token{end: unitNow.Add(time.Minute), held: true}, wantCalls: []string{"generate:" + path},
			wantLease: path + "/lease-2", wantUser: "user-2", retired: 1, event: EventCredentialIssued, says: "login token that owns the lease ends at"},
		{name: "a credential issued under a token that ends before its lease is reported", kept: kept(-time.Hour, -time.Second),
			token: &token{end: unitNow.Add(time.Minute), held: true, fresh: true}, wantCalls: []string{"generate:" + path},
			wantLease: path + "/lease-2", wantUser: "user-2", event: EventLoginTokenShorterThanLease, says: "token_max_ttl"},
		{name: "a lease whose token is no longer held (a restart, a refusal) is replaced at once", kept: kept(time.Minute, time.Hour),
			token: &token{held: false}, wantCalls: []string{"generate:" + path},
			wantLease: path + "/lease-2", wantUser: "user-2", retired: 1, event: EventCredentialIssued, says: "not held by this operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			es := &v1alpha1.ExternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns", UID: "uid-app"}}
			lg, rec := unitLedger(t, es)
			p := providerfake.New()
			p.Client.WithLeases(time.Hour)
			_, _ = p.Client.Generate(context.Background(), providers.DynamicRequest{Path: path}) // lease-1 exists
			p.Client.Calls = nil
			if tt.renewErr != nil {
				p.Client.WithError(path+"/lease-1", tt.renewErr)
			}
			if tt.token != nil && !tt.token.fresh {
				p.Client.WithTokenEnd(providerfake.FakeToken, tt.token.end, tt.token.held)
			}
			if tt.token != nil {
				p.Client.WithNewToken("fresh-login")
			}
			if tt.token != nil && tt.token.fresh {
				p.Client.WithTokenEnd("fresh-login", tt.token.end, tt.token.held)
			}
			lg.Provider = p
			got, err := lg.Current(context.Background(), es, res, tt.kept, true)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(p.Client.Calls).To(Equal(tt.wantCalls))
			g.Expect(got.Lease.ID).To(Equal(tt.wantLease))
			g.Expect(string(got.Values["username"])).To(Equal(tt.wantUser))
			g.Expect(got.Retired).To(HaveLen(tt.retired))
			g.Expect(got.Lease.Expires.After(unitNow)).To(BeTrue(), "the credential served must not be expired")
			g.Expect(got.NextRenewal.After(unitNow)).To(BeTrue(), "the next renewal must lie ahead")
			if tt.event != "" {
				var events []string
				for len(rec.Events) > 0 {
					events = append(events, <-rec.Events)
				}
				g.Expect(events).To(ContainElement(And(ContainSubstring(tt.event), ContainSubstring(tt.says))))
			}
			if tt.retired > 0 {
				g.Expect(got.Retired[0].RevokeAt).To(Equal(unitNow.Add(time.Minute)))
				g.Expect(got.Lease.Ref).To(Equal(v1alpha1.GeneratorRef{Kind: "VaultDynamicSecret", Name: "db"}))
			}
			if tt.token != nil && tt.retired > 0 {
				g.Expect(got.Lease.Token).To(Equal("fresh-login"), "the new lease belongs to the new login")
			}
		})
	}
}
