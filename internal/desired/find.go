package desired

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/rename"
	"github.com/baosync/baosync/internal/template"
	"github.com/baosync/baosync/providers"
)

// find runs a dataFrom.find: it selects remote secrets, turns their paths into
// valid keys (conversionStrategy) and decodes their values.
func find(ctx context.Context, sc providers.SecretsClient, f *v1alpha1.ExternalSecretFind, maxAge time.Duration) (map[string][]byte, error) {
	ref := providers.FindRef{Tags: f.Tags, MaxAge: maxAge}
	if f.Path != nil {
		ref.Path = *f.Path
	}
	if f.Name != nil {
		re, err := regexp.Compile(f.Name.RegExp)
		if err != nil {
			return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "find.name.regexp %q is not a valid RE2 expression: %v", f.Name.RegExp, err)
		}
		ref.Name = re
	}
	found, err := sc.GetAllSecrets(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(found))
	for path, v := range found {
		d, err := decode(v, f.DecodingStrategy)
		if err == nil {
			err = checkNullBytes(d, f.NullBytePolicy)
		}
		if err != nil {
			return nil, fmt.Errorf("found secret %q: %w", path, err)
		}
		out[convertKey(path, f.ConversionStrategy)] = d
	}
	return out, nil
}

// extractedKeys makes the property names of an extract valid Secret keys as
// ESO does (esutils.ConvertKeys): every character other than a letter, a
// digit, "-", "." or "_" becomes "_" (Default) or _U<hex>_ (Unicode). Two
// names that become one key fail with InvalidSpec.
func extractedKeys(m map[string][]byte, strategy v1alpha1.ConversionStrategy) (map[string][]byte, error) {
	out := make(map[string][]byte, len(m))
	from := make(map[string]string, len(m))
	for k, v := range m {
		var b strings.Builder
		for _, r := range k {
			switch {
			case unicode.IsLetter(r) || unicode.IsNumber(r) || r == '-' || r == '.' || r == '_':
				b.WriteRune(r)
			case strategy == v1alpha1.ConversionStrategyUnicode:
				fmt.Fprintf(&b, "_U%04x_", r)
			default:
				b.WriteByte('_')
			}
		}
		key := b.String()
		if prev, ok := from[key]; ok {
			return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "properties %q and %q both become key %q; rename them with a rewrite", prev, k, key)
		}
		out[key], from[key] = v, k
	}
	return out, nil
}

// convertKey writes a secret path as a Secret key: "/" as "_", and with the
// Unicode strategy every other character a key may not hold as _U<hex>_.
func convertKey(path string, strategy v1alpha1.ConversionStrategy) string {
	key := strings.ReplaceAll(path, "/", "_")
	if strategy != v1alpha1.ConversionStrategyUnicode {
		return key
	}
	var b strings.Builder
	for _, r := range key {
		if r < 128 && (r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "_U%04x_", r)
	}
	return b.String()
}

// rewrite renames the keys of one dataFrom entry, step by step. It fails with
// InvalidSpec for an invalid regexp, an invalid resulting key, or two keys
// renamed to the same one, and with TemplateError for a failing transform.
func rewrite(m map[string][]byte, steps []v1alpha1.ExternalSecretRewrite) (map[string][]byte, error) {
	session := template.NewSession() // one budget for every key and step
	for i, step := range steps {
		next := make(map[string][]byte, len(m))
		from := map[string]string{}
		rename, err := rename.Step(session, i, step)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			nk, err := rename(k)
			if err != nil {
				return nil, err
			}
			if errs := validation.IsConfigMapKey(nk); len(errs) > 0 {
				return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "rewrite[%d] turns key %q into %q, which is not a valid Secret key (%s)", i, k, nk, strings.Join(errs, "; "))
			}
			if prev, ok := from[nk]; ok {
				return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "rewrite[%d] turns both %q and %q into %q; make the rewrite keep them apart", i, prev, k, nk)
			}
			from[nk] = k
			next[nk] = v
		}
		m = next
	}
	return m, nil
}
