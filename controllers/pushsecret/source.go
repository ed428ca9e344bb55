package pushsecret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// adoptsFromESO reports whether ps opted in to taking over ESO's secrets.
func adoptsFromESO(ps *v1alpha1.PushSecret) bool {
	return ps.Annotations[v1alpha1.AnnotationAdoptFromESO] == "true"
}

// sourceValue is what entry e pushes of Secret src: the value of its key or,
// with no key, its key space as a JSON object of keys and values (strings),
// as in ESO. With no remoteRef.property that value becomes the whole remote
// secret, so it must be a JSON object; an entry whose value is not waits for
// the Secret to change (Reason InvalidSpec). Errors never quote a value.
func sourceValue(src string, e entry) ([]byte, error) {
	if e.key == "" {
		all := make(map[string]string, len(e.data))
		for k, v := range e.data {
			all[k] = string(v)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // ESO writes <, > and & as they are
		if err := enc.Encode(all); err != nil {
			return nil, fmt.Errorf("encode Secret %q as JSON: %w", src, err)
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	value, ok := e.data[e.key]
	if !ok {
		return nil, outcome.Waitingf(v1alpha1.ReasonSourceNotFound, 0, "Secret %q has no key %q", src, e.key)
	}
	if e.remote.Property == "" && !isJSONObject(value) {
		return nil, outcome.Waitingf(v1alpha1.ReasonInvalidSpec, 0,
			"%s: key %q of Secret %q is not a JSON object, but with no remoteRef.property (remote key %q) its value becomes the whole remote secret, as in ESO; "+
				"set remoteRef.property to push it as one property, bundle keys into one remote secret with dataTo's remoteKey, or store a JSON object in the key",
			e.origin, e.key, src, e.remote.RemoteKey)
	}
	return value, nil
}

// unicodeEscape is how an ExternalSecret's Unicode conversion writes a
// character a Secret key cannot hold, as ESO does.
var unicodeEscape = regexp.MustCompile(`_U([0-9a-fA-F]{4,5})_`)

// convertKeys returns data with its key names read by strategy, and for each
// new name the Secret's own. Two keys that convert to one name fail.
func convertKeys(strategy v1alpha1.PushConversionStrategy, data map[string][]byte) (map[string][]byte, map[string]string, error) {
	out := make(map[string][]byte, len(data))
	originals := make(map[string]string, len(data))
	for k, v := range data {
		name := k
		if strategy == v1alpha1.PushConversionReverseUnicode {
			name = unicodeEscape.ReplaceAllStringFunc(k, func(m string) string {
				n, err := strconv.ParseInt(m[2:len(m)-1], 16, 32)
				if err != nil {
					return m
				}
				return string(rune(n))
			})
		}
		if prev, ok := originals[name]; ok {
			return nil, nil, fmt.Errorf("keys %q and %q of the Secret both read as %q with conversionStrategy %s", prev, k, name, strategy)
		}
		out[name], originals[name] = v, k
	}
	return out, originals, nil
}

// isJSONObject reports whether b is one JSON object.
func isJSONObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}

// adoptedNote is the Ready message's record of the remote secrets taken over
// from ESO in this push ("" when none).
func adoptedNote(adopted []string) string {
	if len(adopted) == 0 {
		return ""
	}
	return fmt.Sprintf("; taken over from External Secrets Operator: %s", strings.Join(adopted, ", "))
}
