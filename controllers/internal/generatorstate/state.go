// Package generatorstate keeps generated values between reconciles: one Secret
// per owning object (an ExternalSecret or a PushSecret), in its namespace and
// owned by it, holds what each of its generator entries produced, with the
// hash of the generator that produced it and the lease behind it. Values kept
// there survive an operator restart or a leader change, so that a Password is
// not generated again and a dynamic secret's lease is picked up rather than
// issued again.
//
// The state Secret holds credentials: it is never logged and never copied into
// status, events or errors.
package generatorstate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/generator"
	"github.com/baosync/baosync/controllers/internal/outcome"
)

// Label marks a state Secret; its value is the owner's kind.
const Label = "baosync.io/generator-state"

// Entry is what one generator entry of the owner produced.
type Entry struct {
	// Values are the generated values by key.
	Values map[string][]byte `json:"values"`
	// Hash is generator.HashOf the generator that produced them.
	Hash string `json:"hash"`
	// GeneratedAt is when they were generated or issued.
	GeneratedAt time.Time `json:"generatedAt"`
	// Lease is the lease behind a dynamic secret.
	Lease *generator.Lease `json:"lease,omitempty"`
	// NextRenewal is when the lease is due for renewal; zero without a lease.
	NextRenewal time.Time `json:"nextRenewal,omitzero"`
	// Rotation is when new values are due; zero when no rotation is planned.
	Rotation time.Time `json:"rotation,omitzero"`
	// Retired are earlier leases still valid during a rotation's grace period,
	// to be revoked once it ends.
	Retired []Retired `json:"retired,omitempty"`
}

// Retired is a lease replaced by a newer one, kept until RevokeAt.
type Retired struct {
	// Lease is the replaced lease.
	Lease generator.Lease `json:"lease"`
	// RevokeAt is when the grace period ends.
	RevokeAt time.Time `json:"revokeAt"`
}

// State is the kept state of one owner. Get and Set work in memory; Save
// writes the Secret when something changed.
type State struct {
	owner   client.Object
	gvk     schema.GroupVersionKind
	secret  *corev1.Secret // nil until the Secret exists
	entries map[string]Entry
	saved   map[string][]byte // the Secret's data as read or last written
}

// Name is the state Secret's name for an owner: the owner's name (shortened)
// and a hash of its kind and UID, so that it never collides with a Secret a
// user named and a recreated owner starts afresh.
func Name(kind string, owner client.Object) string {
	sum := sha256.Sum256([]byte(kind + "/" + string(owner.GetUID())))
	name := owner.GetName()
	if len(name) > 200 {
		name = name[:200]
	}
	return fmt.Sprintf("%s-generated-%s", name, hex.EncodeToString(sum[:4]))
}

// Key names the state entry of an ExternalSecret's dataFrom entry.
func Key(index int) string { return fmt.Sprintf("dataFrom.%d", index) }

// Load reads the owner's state through live (uncached: state Secrets carry no
// label the manager caches). A Secret of that name that the owner does not own
// is refused, never read or overwritten.
func Load(ctx context.Context, live client.Reader, owner client.Object, gvk schema.GroupVersionKind) (*State, error) {
	s := &State{owner: owner, gvk: gvk, entries: map[string]Entry{}, saved: map[string][]byte{}}
	sec := &corev1.Secret{}
	err := live.Get(ctx, client.ObjectKey{Namespace: owner.GetNamespace(), Name: Name(gvk.Kind, owner)}, sec)
	if apierrors.IsNotFound(err) {
		return s, nil
	}
	if err != nil {
		return nil, outcome.FromKube("get the generator state Secret", err)
	}
	if !ownedBy(sec, owner) {
		return nil, outcome.Terminalf(v1alpha1.ReasonTargetConflict,
			"Secret %q exists and is not this %s's generator state; delete or rename it", sec.Name, gvk.Kind)
	}
	s.secret, s.saved = sec, sec.Data
	for k, raw := range sec.Data {
		var e Entry
		if json.Unmarshal(raw, &e) != nil {
			continue // unreadable entries count as absent: they are generated again
		}
		s.entries[k] = e
	}
	return s, nil
}

// ownedBy reports whether owner controls sec.
func ownedBy(sec *corev1.Secret, owner client.Object) bool {
	for _, ref := range sec.OwnerReferences {
		if ref.UID == owner.GetUID() {
			return true
		}
	}
	return false
}

// Get returns the entry under key.
func (s *State) Get(key string) (Entry, bool) {
	e, ok := s.entries[key]
	return e, ok
}

// Set replaces the entry under key.
func (s *State) Set(key string, e Entry) { s.entries[key] = e }

// Keys lists the entries' keys, sorted.
func (s *State) Keys() []string { return slices.Sorted(maps.Keys(s.entries)) }

// Prune removes the entries keep rejects and returns them, so that the caller
// can revoke their leases (an entry the owner no longer uses).
func (s *State) Prune(keep func(key string) bool) map[string]Entry {
	gone := map[string]Entry{}
	for k, e := range s.entries {
		if !keep(k) {
			gone[k] = e
			delete(s.entries, k)
		}
	}
	return gone
}

// Save writes the state Secret when an entry changed: created with an owner
// reference to the owner (so that it is garbage-collected with it), or
// updated with optimistic concurrency, so that two writers never both win.
func (s *State) Save(ctx context.Context, c client.Client) error {
	data := make(map[string][]byte, len(s.entries))
	for k, e := range s.entries {
		raw, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode generator state %s: %w", k, err)
		}
		data[k] = raw
	}
	// Compared as written, so that times differing only in their
	// representation (location, monotonic reading) cause no write.
	if maps.EqualFunc(data, s.saved, bytes.Equal) {
		return nil
	}
	if s.secret == nil {
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: Name(s.gvk.Kind, s.owner), Namespace: s.owner.GetNamespace(),
				Labels:          map[string]string{Label: s.gvk.Kind},
				OwnerReferences: []metav1.OwnerReference{ownerRef(s.owner, s.gvk)}},
			Type: corev1.SecretTypeOpaque, Data: data,
		}
		if err := c.Create(ctx, sec); err != nil {
			return outcome.FromKube("create the generator state Secret", err)
		}
		s.secret = sec
	} else {
		s.secret.Data = data
		if err := c.Update(ctx, s.secret); err != nil {
			return outcome.FromKube("update the generator state Secret", err)
		}
	}
	s.saved = data
	return nil
}

// ownerRef is a non-controller owner reference: the state Secret is
// garbage-collected with its owner but never mistaken for its target.
func ownerRef(owner client.Object, gvk schema.GroupVersionKind) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind,
		Name: owner.GetName(), UID: owner.GetUID()}
}
