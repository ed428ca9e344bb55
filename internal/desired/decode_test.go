package desired

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestDecode(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		strategy v1alpha1.DecodingStrategy
		want     string
		fails    bool
	}{
		{name: "None keeps the value", in: "aGk=", strategy: v1alpha1.DecodingStrategyNone, want: "aGk="},
		{name: "Base64 decodes", in: "aGk=", strategy: v1alpha1.DecodingStrategyBase64, want: "hi"},
		{name: "Base64URL decodes", in: "-_8=", strategy: v1alpha1.DecodingStrategyBase64URL, want: "\xfb\xff"},
		{name: "Auto decodes what is base64", in: "aGk=", strategy: v1alpha1.DecodingStrategyAuto, want: "hi"},
		{name: "Auto keeps what is not", in: "plain text!", strategy: v1alpha1.DecodingStrategyAuto, want: "plain text!"},
		{name: "Base64 refuses invalid input without echoing it", in: "not base64!", strategy: v1alpha1.DecodingStrategyBase64, fails: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := decode([]byte(tc.in), tc.strategy)
			if tc.fails {
				g.Expect(err).To(HaveOccurred())
				g.Expect(err.Error()).NotTo(ContainSubstring(tc.in))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(got)).To(Equal(tc.want))
		})
	}
}
