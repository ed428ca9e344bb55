package desired

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/providers/fake"
)

func TestFetch_NullBytePolicy(t *testing.T) {
	withPolicy := func(policy string) esOpt {
		return func(es *v1alpha1.ExternalSecret) {
			for i := range es.Spec.Data {
				es.Spec.Data[i].RemoteRef.NullBytePolicy = policy
			}
			for i := range es.Spec.DataFrom {
				es.Spec.DataFrom[i].Extract.NullBytePolicy = policy
			}
		}
	}
	extract := func(es *v1alpha1.ExternalSecret) {
		es.Spec.DataFrom = []v1alpha1.ExternalSecretDataFromRemoteRef{{Extract: &v1alpha1.ExternalSecretDataRemoteRef{Key: "bin"}}}
	}
	cases := []struct {
		name  string
		es    *v1alpha1.ExternalSecret
		fails bool
	}{
		{"without a policy a NUL byte is written as it is", newES("ns", "a", "s", withData("k", "bin", "v")), false},
		{"Ignore writes it", newES("ns", "a", "s", withData("k", "bin", "v"), withPolicy("Ignore")), false},
		{"Fail refuses a data value holding one", newES("ns", "a", "s", withData("k", "bin", "v"), withPolicy("Fail")), true},
		{"Fail refuses an extracted property holding one", newES("ns", "a", "s", extract, withPolicy("Fail")), true},
		{"Fail passes a value without one", newES("ns", "a", "s", withData("k", "text", "v"), withPolicy("Fail")), false},
		{"Fail applies after decoding", newES("ns", "a", "s", withData("k", "encoded", "v"), withPolicy("Fail"), func(es *v1alpha1.ExternalSecret) {
			es.Spec.Data[0].RemoteRef.DecodingStrategy = v1alpha1.DecodingStrategyBase64
		}), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			p := fake.New()
			p.Client.WithSecret("bin", map[string]any{"v": "se\x00cret-bytes"}).
				WithSecret("text", map[string]any{"v": "plain"}).
				WithSecret("encoded", map[string]any{"v": base64.StdEncoding.EncodeToString([]byte("a\x00b"))})
			_, err := (&Builder{Provider: p, Clock: clocktesting.NewFakeClock(unitNow)}).fetch(context.Background(), resolvedStore(tc.es), tc.es, 0, &Result{})
			if !tc.fails {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			oe := outcome.As(err, "")
			g.Expect(oe.Reason).To(Equal(v1alpha1.ReasonDecodingFailed))
			g.Expect(oe.Err.Error()).To(ContainSubstring("nullBytePolicy is Fail"))
			g.Expect(strings.Contains(err.Error(), "cret-bytes")).To(BeFalse(), "the value never appears in the error")
		})
	}
}
