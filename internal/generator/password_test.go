package generator

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/baosync/baosync/api/v1alpha1"
)

func ptr[T any](v T) *T { return &v }

// count returns how many runes of s are in set.
func count(s, set string) int {
	n := 0
	for _, r := range s {
		if strings.ContainsRune(set, r) {
			n++
		}
	}
	return n
}

func TestPassword_HasTheShapeTheSpecAsks(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		spec                 v1alpha1.PasswordSpec
		length, digits, syms int
		noUpper, uniqueRunes bool
	}{
		{name: "defaults to 24 characters, a quarter digits and a quarter symbols, none repeated",
			spec: v1alpha1.PasswordSpec{Length: 24}, length: 24, digits: 6, syms: 6, uniqueRunes: true},
		{name: "a spec built in code without length gets 24",
			spec: v1alpha1.PasswordSpec{}, length: 24, digits: 6, syms: 6, uniqueRunes: true},
		{name: "takes exact digit and symbol counts",
			spec:   v1alpha1.PasswordSpec{Length: 42, Digits: ptr(5), Symbols: ptr(5), SymbolCharacters: ptr("-_$@"), AllowRepeat: true},
			length: 42, digits: 5, syms: 5},
		{name: "leaves out upper-case letters with noUpper",
			spec: v1alpha1.PasswordSpec{Length: 30, NoUpper: true}, length: 30, digits: 7, syms: 7, noUpper: true, uniqueRunes: true},
		{name: "may be all digits",
			spec: v1alpha1.PasswordSpec{Length: 10, Digits: ptr(10), Symbols: ptr(0)}, length: 10, digits: 10, uniqueRunes: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			out, err := Password{Spec: tc.spec}.Generate(context.Background())
			g.Expect(err).NotTo(HaveOccurred())
			pw := string(out["password"])
			g.Expect([]rune(pw)).To(HaveLen(tc.length))
			g.Expect(count(pw, digitChars)).To(Equal(tc.digits))
			symbols := DefaultSymbols
			if tc.spec.SymbolCharacters != nil {
				symbols = *tc.spec.SymbolCharacters
			}
			g.Expect(count(pw, symbols)).To(Equal(tc.syms))
			if tc.noUpper {
				g.Expect(count(pw, upperLetters)).To(BeZero())
			}
			if tc.uniqueRunes {
				seen := map[rune]bool{}
				for _, r := range pw {
					g.Expect(seen[r]).To(BeFalse(), "a character repeats without allowRepeat")
					seen[r] = true
				}
			}
		})
	}
}

func TestPassword_RefusesWhatCannotBeGenerated(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec v1alpha1.PasswordSpec
	}{
		{"more digits and symbols than the length", v1alpha1.PasswordSpec{Length: 8, Digits: ptr(5), Symbols: ptr(5)}},
		{"more distinct digits than exist, without allowRepeat", v1alpha1.PasswordSpec{Length: 12, Digits: ptr(11), Symbols: ptr(0)}},
		{"more distinct symbols than the set holds", v1alpha1.PasswordSpec{Length: 8, Symbols: ptr(3), Digits: ptr(0), SymbolCharacters: ptr("aa")}},
		{"an unknown encoding", v1alpha1.PasswordSpec{Length: 8, Encoding: ptr("rot13")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := Password{Spec: tc.spec}.Generate(context.Background())
			g.Expect(err).To(MatchError(ContainSubstring("Password")))
		})
	}
}

func TestPassword_EncodesAsAsked(t *testing.T) {
	for _, tc := range []struct {
		encoding string
		decode   func(string) ([]byte, error)
	}{
		{"base64", base64.StdEncoding.DecodeString},
		{"base64url", base64.URLEncoding.DecodeString},
		{"base32", base32.StdEncoding.DecodeString},
		{"hex", hex.DecodeString},
		{"raw", func(s string) ([]byte, error) { return []byte(s), nil }},
	} {
		t.Run("encodes "+tc.encoding, func(t *testing.T) {
			g := NewWithT(t)
			out, err := Password{Spec: v1alpha1.PasswordSpec{Length: 16, Encoding: ptr(tc.encoding)}}.Generate(context.Background())
			g.Expect(err).NotTo(HaveOccurred())
			raw, err := tc.decode(string(out["password"]))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect([]rune(string(raw))).To(HaveLen(16))
		})
	}
}

func TestUUID_IsARandomVersion4UUID(t *testing.T) {
	g := NewWithT(t)
	a, err := UUID{}.Generate(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	b, _ := UUID{}.Generate(context.Background())
	g.Expect(string(a["uuid"])).To(MatchRegexp(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`))
	g.Expect(a["uuid"]).NotTo(Equal(b["uuid"]))
}

func TestPassword_SecretKeysEachGetAPasswordOfTheirOwn(t *testing.T) {
	cases := []struct {
		name string
		keys []string
		want []string
	}{
		{"without secretKeys: the key password", nil, []string{"password"}},
		{"each named key", []string{"db", "admin", "replica"}, []string{"db", "admin", "replica"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			values, err := Password{Spec: v1alpha1.PasswordSpec{Length: 32, SecretKeys: tc.keys}}.Generate(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(values) != len(tc.want) {
				t.Fatalf("keys %v, want %v", slices.Sorted(maps.Keys(values)), tc.want)
			}
			seen := map[string]bool{}
			for _, k := range tc.want {
				v, ok := values[k]
				if !ok || len(v) != 32 {
					t.Fatalf("key %q: %d bytes, present %v", k, len(v), ok)
				}
				if seen[string(v)] {
					t.Fatal("two keys got the same password")
				}
				seen[string(v)] = true
			}
		})
	}
}
