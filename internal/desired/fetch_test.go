package desired

import (
	"context"
	"errors"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/providers"
	"github.com/baosync/baosync/providers/fake"
)

func TestFetch_MergesEntriesAndTellsAPartlyMissingSetFromAGoneOne(t *testing.T) {
	cases := []struct {
		name    string
		es      *v1alpha1.ExternalSecret
		want    map[string]string
		reason  string
		allGone bool
	}{{
		name: "merges dataFrom and data, data winning",
		es: newES("ns", "a", "s", func(es *v1alpha1.ExternalSecret) {
			es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: "app"}}}
		}, withData("user", "other", "name")),
		want: map[string]string{"user": "from-data", "pass": "p"},
	}, {
		name:    "reports every referenced secret gone, so deletionPolicy may apply",
		es:      newES("ns", "a", "s", withData("x", "missing", "x"), withData("y", "missing2", "y")),
		reason:  v1alpha1.ReasonRemoteNotFound,
		allGone: true,
	}, {
		name:   "a partly missing set is a plain RemoteNotFound, never a deletion",
		es:     newES("ns", "a", "s", withData("x", "missing", "x"), withData("user", "other", "name")),
		reason: v1alpha1.ReasonRemoteNotFound,
	}, {
		name:   "an unavailable server is not mistaken for a missing secret",
		es:     newES("ns", "a", "s", withData("x", "down", "x")),
		reason: v1alpha1.ReasonProviderUnavailable,
	}, {
		name:   "a missing property is PropertyNotFound",
		es:     newES("ns", "a", "s", withData("x", "other", "nope")),
		reason: v1alpha1.ReasonPropertyNotFound,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			p := fake.New()
			p.Client.WithSecret("app", map[string]any{"user": "from-extract", "pass": "p"}).
				WithSecret("other", map[string]any{"name": "from-data"}).
				WithError("down", providers.ErrUnavailable)
			got, err := (&Builder{Provider: p, Clock: clocktesting.NewFakeClock(unitNow)}).fetch(context.Background(), resolvedStore(tc.es), tc.es, 0, &Result{})
			if tc.reason == "" {
				g.Expect(err).NotTo(HaveOccurred())
				strs := map[string]string{}
				for k, v := range got {
					strs[k] = string(v)
				}
				g.Expect(strs).To(Equal(tc.want))
				return
			}
			g.Expect(outcome.As(err, "").Reason).To(Equal(tc.reason))
			g.Expect(errors.Is(err, ErrRemoteGone)).To(Equal(tc.allGone))
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"aGk=", "-_8=", "", "====", "not base64!", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, st := range []v1alpha1.DecodingStrategy{v1alpha1.DecodingStrategyBase64, v1alpha1.DecodingStrategyBase64URL, v1alpha1.DecodingStrategyAuto} {
			if _, err := decode([]byte(in), st); err != nil && len(in) > 3 && strings.Contains(err.Error(), in) {
				t.Fatalf("decoding error echoes its input: %v", err)
			}
		}
	})
}

func FuzzRender_KeysNeverPanic(f *testing.F) {
	for _, s := range []string{"ok", "has space", "", "a/b", strings.Repeat("k", 300), ".dot"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		_, _ = desiredSecret(newES("ns", "a", "s"), &templated{data: map[string][]byte{key: []byte("v")}})
	})
}

func TestTally_ThrottledOnlyWhenEveryFailureWaitedForAStoresBudget(t *testing.T) {
	own := &providers.ThrottledError{Store: "s", Namespace: "ns", After: 1}
	other := &providers.ThrottledError{Store: "s", Namespace: "other", After: 1}
	storeWide := &providers.ThrottledError{Store: "s", Namespace: "ns", After: 1, StoreWide: true}
	denied := errors.Join(providers.ErrPermissionDenied)
	cases := []struct {
		name     string
		entries  []error
		generate error // the generators' state failing to save
		only     bool
		first    error
		gone     bool
	}{
		{name: "the namespace's share twice, one entry read", entries: []error{own, nil, own}, only: true, first: own},
		{name: "the store's whole budget, and another namespace's share (a coalesced read)", entries: []error{storeWide, other}, only: true, first: storeWide},
		{name: "a wait before a refused read: the refusal counts", entries: []error{own, denied}, first: own},
		{name: "a wait, and the generators' state not saved", entries: []error{own}, generate: denied, first: own},
		{name: "every remote secret gone", entries: []error{providers.ErrNotFound, providers.ErrNotFound}, first: providers.ErrNotFound, gone: true},
		{name: "nothing failed", entries: []error{nil, nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tl := &tally{}
			for _, err := range c.entries {
				tl.note(err)
			}
			if c.generate != nil {
				tl.fail(c.generate)
			}
			only := tl.throttledOnly()
			if only != c.only || !errors.Is(tl.first, c.first) || (tl.missing == tl.total) != c.gone {
				t.Fatalf("throttled only %v (want %v), first %v (want %v), gone %v (want %v)",
					only, c.only, tl.first, c.first, tl.missing == tl.total, c.gone)
			}
		})
	}
}
