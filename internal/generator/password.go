package generator

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// The character sets are ESO's (through sethvargo/go-password), so that a
// converted Password produces passwords of the same shape.
const (
	lowerLetters = "abcdefghijklmnopqrstuvwxyz"
	upperLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars   = "0123456789"
	// DefaultSymbols are the symbols used when symbolCharacters is not set.
	DefaultSymbols = "~!@#$%^&*()_+`-={}|[]\\:\"<>?,./"
	// defaultLength applies when the spec's length is 0 (a spec built in code).
	defaultLength = 24
)

// Password generates a password under the key "password" (or under each of
// spec.secretKeys, each its own): length characters
// of which digits are digits and symbols are symbols (a quarter of the length
// each by default), the rest letters, each inserted at a random position, as
// ESO does. Without allowRepeat no character appears twice.
type Password struct {
	// Spec is the Password's spec.
	Spec v1alpha1.PasswordSpec
}

// Generate implements Generator: a password under "password", or one of its
// own under each of spec.secretKeys. Its errors never include generated
// characters.
func (p Password) Generate(context.Context) (map[string][]byte, error) {
	keys := p.Spec.SecretKeys
	if len(keys) == 0 {
		keys = []string{"password"}
	}
	out := make(map[string][]byte, len(keys))
	for _, k := range keys {
		pw, err := p.generate()
		if err != nil {
			return nil, outcome.Terminalf(v1alpha1.ReasonGeneratorFailed, "Password: %v", err)
		}
		if out[k], err = encode(pw, p.Spec.Encoding); err != nil {
			return nil, outcome.Terminalf(v1alpha1.ReasonGeneratorFailed, "Password: %v", err)
		}
	}
	return out, nil
}

// generate builds the raw password.
func (p Password) generate() ([]byte, error) {
	length := p.Spec.Length
	if length <= 0 {
		length = defaultLength
	}
	digits, symbols := length/4, length/4
	if p.Spec.Digits != nil {
		digits = *p.Spec.Digits
	}
	if p.Spec.Symbols != nil {
		symbols = *p.Spec.Symbols
	}
	symbolSet := DefaultSymbols
	if p.Spec.SymbolCharacters != nil {
		symbolSet = *p.Spec.SymbolCharacters
	}
	letterSet := lowerLetters
	if !p.Spec.NoUpper {
		letterSet += upperLetters
	}
	if digits < 0 || symbols < 0 || digits+symbols > length {
		return nil, fmt.Errorf("digits (%d) plus symbols (%d) exceed the length %d", digits, symbols, length)
	}
	if symbols > 0 && symbolSet == "" {
		return nil, fmt.Errorf("symbols requested but symbolCharacters is empty")
	}
	var out []rune
	for _, part := range []struct {
		name  string
		set   string
		count int
	}{{"letters", letterSet, length - digits - symbols}, {"digits", digitChars, digits}, {"symbols", symbolSet, symbols}} {
		var err error
		if out, err = insertFrom(out, part.set, part.count, p.Spec.AllowRepeat); err != nil {
			return nil, fmt.Errorf("%s: %w", part.name, err)
		}
	}
	return []byte(string(out)), nil
}

// insertFrom inserts count characters of set at random positions of out.
// Without repeat it draws only characters not yet in out, uniformly: the same
// distribution as drawing again on a repeat, without the risk of never ending.
func insertFrom(out []rune, set string, count int, repeat bool) ([]rune, error) {
	pool := []rune(set)
	for range count {
		if !repeat {
			pool = unused(pool, out)
		}
		if len(pool) == 0 {
			return nil, fmt.Errorf("%d characters requested but the character set has too few distinct ones; set allowRepeat or choose fewer", count)
		}
		c, err := randN(len(pool))
		if err != nil {
			return nil, err
		}
		at, err := randN(len(out) + 1)
		if err != nil {
			return nil, err
		}
		out = append(out[:at], append([]rune{pool[c]}, out[at:]...)...)
	}
	return out, nil
}

// unused returns the distinct characters of pool that out does not contain.
func unused(pool, out []rune) []rune {
	seen := map[rune]bool{}
	for _, r := range out {
		seen[r] = true
	}
	var free []rune
	for _, r := range pool {
		if !seen[r] {
			free = append(free, r)
			seen[r] = true
		}
	}
	return free
}

// randN returns a uniform random number in [0, n) from crypto/rand.
func randN(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("read random bytes: %w", err)
	}
	return int(v.Int64()), nil
}

// encode applies a Password's encoding.
func encode(pw []byte, encoding *string) ([]byte, error) {
	name := "raw"
	if encoding != nil {
		name = strings.ToLower(*encoding)
	}
	switch name {
	case "raw", "":
		return pw, nil
	case "base64":
		return []byte(base64.StdEncoding.EncodeToString(pw)), nil
	case "base64url":
		return []byte(base64.URLEncoding.EncodeToString(pw)), nil
	case "base32":
		return []byte(base32.StdEncoding.EncodeToString(pw)), nil
	case "hex":
		return []byte(hex.EncodeToString(pw)), nil
	}
	return nil, fmt.Errorf("encoding %q is not one of raw, base64, base64url, base32, hex", name)
}
