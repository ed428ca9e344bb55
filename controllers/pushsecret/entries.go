package pushsecret

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/rename"
	"github.com/baosync/baosync/internal/template"
)

// maxEntries bounds the pushes of one PushSecret to one store: dataTo expands
// over the keys of a Secret its tenant writes, and every push is a request.
const maxEntries = 256

// maxRecords bounds status.createdRemoteSecrets: a tenant who renames the
// keys a dataTo entry pushes one by one would grow it without end, until the
// status no longer fits in etcd.
const maxRecords = 1024

// entry is one push: the remote secret (and property) it writes, and the
// keys of the Secret its value is made of.
type entry struct {
	// origin names the spec entry in messages: "data[1]", "dataTo[0]".
	origin string
	// remote is where the value goes.
	remote v1alpha1.PushSecretRemoteRef
	// key is the key of data pushed; "" pushes all of data as one JSON object.
	key string
	// data is the key space the entry reads: the Secret's data with the
	// entry's key names (converted, or only a bundle's matched keys).
	data map[string][]byte
	// source is the Secret's own key name an entry of one key pushes ("" for
	// a JSON object): a data entry wins over a dataTo entry of the same one.
	source string
}

// plan is what a PushSecret pushes of its Secret, expanded once per
// reconcile (not once per store): its dataTo entries over the Secret's keys
// and its data entries.
type plan struct {
	ps *v1alpha1.PushSecret
	// deletion: no Secret, the remote secrets the PushSecret made go.
	deletion bool
	// bulk are the pushes of each dataTo entry, by its index.
	bulk     [][]entry
	explicit []entry
}

// newPlan expands ps's entries over src (nil for a deletion, when only the
// remote secrets the spec names are known). The matched keys are counted
// before any is rewritten, and every template shares one budget: the
// Secret's keys are the tenant's, as many as 1 MiB holds.
func newPlan(ps *v1alpha1.PushSecret, src *corev1.Secret) (*plan, error) {
	p := &plan{ps: ps, deletion: src == nil}
	session := template.NewSession()
	room := maxEntries
	for i, d := range ps.Spec.DataTo {
		expanded, err := expand(session, fmt.Sprintf("dataTo[%d]", i), d, src, room)
		if err != nil {
			return nil, err
		}
		room -= len(expanded)
		p.bulk = append(p.bulk, expanded)
	}
	for i, d := range ps.Spec.Data {
		e, err := dataEntry(fmt.Sprintf("data[%d]", i), d, src)
		if err != nil {
			return nil, err
		}
		p.explicit = append(p.explicit, e)
	}
	return p, nil
}

// forStore lists what the plan pushes to store: the pushes of the dataTo
// entries that pick it, then the data entries, which win over dataTo for the
// same key of the Secret (as in ESO). No two entries may write the same
// remote secret and property.
func (p *plan) forStore(store v1alpha1.GenericStore) ([]entry, error) {
	var all []entry
	for i, d := range p.ps.Spec.DataTo {
		picked, err := picks(d.StoreRef, store)
		if err != nil {
			return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "dataTo[%d].storeRef: %v", i, err)
		}
		if picked {
			all = append(all, p.bulk[i]...)
		}
	}
	sources := map[string]bool{}
	for _, e := range p.explicit {
		sources[e.source] = sources[e.source] || e.source != ""
	}
	all = slices.DeleteFunc(all, func(e entry) bool { return sources[e.source] })
	all = append(all, p.explicit...)
	if len(all) > maxEntries {
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "%d pushes to %s %q, more than %d: narrow dataTo's match or bundle the keys with remoteKey",
			len(all), store.GetKind(), store.GetName(), maxEntries)
	}
	return all, distinctRemotes(all)
}

// dataEntry is the push of one data entry. Without a Secret (a deletion),
// only its remote reference is known.
func dataEntry(origin string, d v1alpha1.PushSecretData, src *corev1.Secret) (entry, error) {
	e := entry{origin: origin, remote: d.Match.RemoteRef, key: d.Match.SecretKey}
	if src == nil {
		return e, nil
	}
	data, originals, err := convertKeys(d.ConversionStrategy, src.Data)
	if err != nil {
		return e, outcome.Waitingf(v1alpha1.ReasonInvalidSpec, 0, "%s: %v", origin, err)
	}
	e.data, e.source = data, originals[e.key]
	return e, nil
}

// expand turns one dataTo entry into its pushes: one JSON object of the
// matched keys at remoteKey, or one push per matched key to the key's name
// after rewrite. Without a Secret (a deletion), only a bundle is known.
func expand(session *template.Session, origin string, d v1alpha1.PushSecretDataTo, src *corev1.Secret, room int) ([]entry, error) {
	if src == nil {
		if d.RemoteKey == "" {
			return nil, nil
		}
		return []entry{{origin: origin, remote: v1alpha1.PushSecretRemoteRef{RemoteKey: d.RemoteKey}}}, nil
	}
	data, originals, err := convertKeys(d.ConversionStrategy, src.Data)
	if err != nil {
		return nil, outcome.Waitingf(v1alpha1.ReasonInvalidSpec, 0, "%s: %v", origin, err)
	}
	matched, err := match(origin, d.Match, data)
	if err != nil || len(matched) == 0 {
		return nil, err
	}
	if d.RemoteKey == "" && len(matched) > room {
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "%s matches %d keys, more than the %d pushes a PushSecret may make: "+
			"narrow match.regexp or bundle the keys with remoteKey", origin, len(matched), maxEntries)
	}
	if d.RemoteKey != "" {
		bundle := make(map[string][]byte, len(matched))
		for _, k := range matched {
			bundle[k] = data[k]
		}
		return []entry{{origin: origin, remote: v1alpha1.PushSecretRemoteRef{RemoteKey: d.RemoteKey}, data: bundle}}, nil
	}
	remoteKeys, err := rewriteKeys(session, origin, d.Rewrite, matched)
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(matched))
	for i, k := range matched {
		out = append(out, entry{origin: origin + " key " + strconv.Quote(k), remote: v1alpha1.PushSecretRemoteRef{RemoteKey: remoteKeys[i]},
			key: k, data: data, source: originals[k]})
	}
	return out, nil
}

// match returns the sorted keys of data that m selects (all without m).
func match(origin string, m *v1alpha1.PushSecretDataToMatch, data map[string][]byte) ([]string, error) {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if m == nil || m.RegExp == "" {
		return keys, nil
	}
	re, err := regexp.Compile(m.RegExp)
	if err != nil {
		return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "%s.match.regexp %q is not a valid RE2 expression: %v", origin, m.RegExp, err)
	}
	return slices.DeleteFunc(keys, func(k string) bool { return !re.MatchString(k) }), nil
}

// rewriteKeys renames each key through the steps into its remote key.
func rewriteKeys(session *template.Session, origin string, steps []v1alpha1.ExternalSecretRewrite, keys []string) ([]string, error) {
	out := slices.Clone(keys)
	for i, step := range steps {
		rename, err := rename.Step(session, i, step)
		if err != nil {
			return nil, outcome.Within(origin, err)
		}
		for j, k := range out {
			if out[j], err = rename(k); err != nil {
				return nil, outcome.Within(origin, err)
			}
		}
	}
	for j, k := range out {
		if strings.Trim(k, "/") == "" {
			return nil, outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "%s: rewrite turns key %q into an empty remote key", origin, keys[j])
		}
	}
	return out, nil
}

// picks reports whether a dataTo entry's storeRef picks store: by name and
// kind, or by its labels.
func picks(ref v1alpha1.PushSecretDataToStoreRef, store v1alpha1.GenericStore) (bool, error) {
	kind := ref.Kind
	if kind == "" {
		kind = v1alpha1.SecretStoreKindNamespaced
	}
	if kind != store.GetKind() {
		return false, nil
	}
	if ref.Name != "" {
		return ref.Name == store.GetName(), nil
	}
	if ref.LabelSelector == nil {
		return false, fmt.Errorf("set name or labelSelector")
	}
	sel, err := metav1.LabelSelectorAsSelector(ref.LabelSelector)
	if err != nil {
		return false, fmt.Errorf("invalid labelSelector: %w", err)
	}
	return sel.Matches(labels.Set(store.GetLabels())), nil
}

// distinctRemotes fails when two entries write the same remote secret and
// property: one would silently overwrite the other on every push.
func distinctRemotes(all []entry) error {
	seen := make(map[v1alpha1.PushSecretRemoteRef]string, len(all))
	for _, e := range all {
		if prev, ok := seen[e.remote]; ok {
			where := strconv.Quote(e.remote.RemoteKey)
			if e.remote.Property != "" {
				where += " property " + strconv.Quote(e.remote.Property)
			}
			return outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "%s and %s both push to %s; give them different remote keys", prev, e.origin, where)
		}
		seen[e.remote] = e.origin
	}
	return nil
}
