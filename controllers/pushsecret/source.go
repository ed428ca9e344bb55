package pushsecret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/outcome"
)

// AnnotationAdoptFromESO on a PushSecret, set to "true", lets it take over
// remote secrets that External Secrets Operator pushed (custom metadata
// managed-by=external-secrets) through a namespaced SecretStore: their marker
// becomes baosync's, with this PushSecret as owner. Without it they are
// RemoteNotOwned, as every secret baosync did not create.
const AnnotationAdoptFromESO = "baosync.io/adopt-from-eso"

// adoptsFromESO reports whether ps opted in to taking over ESO's secrets.
func adoptsFromESO(ps *v1alpha1.PushSecret) bool {
	return ps.Annotations[AnnotationAdoptFromESO] == "true"
}

// sourceValue is what entry d pushes from src, as in ESO: the value of
// secretKey or, with no secretKey, the whole Secret as a JSON object of its
// keys (values as strings). With no remoteRef.property that value becomes the
// whole remote secret, so it must be a JSON object; an entry whose value is
// not waits for the Secret to change (Reason InvalidSpec). Errors never quote a
// value.
func sourceValue(src *corev1.Secret, d v1alpha1.PushSecretData) ([]byte, error) {
	if d.Match.SecretKey == "" {
		all := make(map[string]string, len(src.Data))
		for k, v := range src.Data {
			all[k] = string(v)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // ESO writes <, > and & as they are
		if err := enc.Encode(all); err != nil {
			return nil, fmt.Errorf("encode Secret %q as JSON: %w", src.Name, err)
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	value, ok := src.Data[d.Match.SecretKey]
	if !ok {
		return nil, outcome.Waitingf(v1alpha1.ReasonSourceNotFound, 0, "Secret %q has no key %q", src.Name, d.Match.SecretKey)
	}
	if d.Match.RemoteRef.Property == "" && !isJSONObject(value) {
		return nil, outcome.Waitingf(v1alpha1.ReasonInvalidSpec, 0,
			"key %q of Secret %q is not a JSON object, but with no remoteRef.property (remote key %q) its value becomes the whole remote secret, as in ESO; "+
				"set remoteRef.property to push it as one property, or store a JSON object in the key", d.Match.SecretKey, src.Name, d.Match.RemoteRef.RemoteKey)
	}
	return value, nil
}

// isJSONObject reports whether b is one JSON object.
func isJSONObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}

// ReasonAdoptedFromESO is the reason of the event that records a remote
// secret taken over from External Secrets Operator.
const ReasonAdoptedFromESO = "AdoptedFromESO"

// adoptedNote is the Ready message's record of the remote secrets taken over
// from ESO in this push ("" when none).
func adoptedNote(adopted []string) string {
	if len(adopted) == 0 {
		return ""
	}
	return fmt.Sprintf("; taken over from External Secrets Operator: %s", strings.Join(adopted, ", "))
}
