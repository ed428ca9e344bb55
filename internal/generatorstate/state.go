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
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/outcome"
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
	// Seal authenticates Lease and Retired (see Sealer): only records the
	// operator wrote for this owner and entry are renewed or revoked.
	Seal string `json:"seal,omitempty"`
}

// Sealer seals lease records with a key the tenant does not have
// (operatorkey.Key).
type Sealer interface {
	// Seal returns the seal of msg.
	Seal(ctx context.Context, msg []byte) (string, error)
	// Check reports whether seal is msg's seal.
	Check(ctx context.Context, msg []byte, seal string) (bool, error)
}

// MaxRetired bounds the retired leases one entry keeps: past it, the oldest
// are due for revocation at once. Rotations faster than the grace period are
// the only way to reach it.
const MaxRetired = 16

// maxLeaseField bounds a lease ID or path kept in a record.
const maxLeaseField = 512

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
	owner    client.Object
	gvk      schema.GroupVersionKind
	sealer   Sealer
	secret   *corev1.Secret // nil until the Secret exists
	entries  map[string]Entry
	saved    map[string][]byte // the Secret's data as read or last written
	rejected []string          // entries whose lease record failed its seal
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
// is refused, never read or overwritten. Lease records are checked with
// sealer (nil trusts none): a record that fails its seal loses its lease and
// retired leases, which the operator then neither renews nor revokes, and its
// key is listed by Rejected.
func Load(ctx context.Context, live client.Reader, owner client.Object, gvk schema.GroupVersionKind, sealer Sealer) (*State, error) {
	s := &State{owner: owner, gvk: gvk, sealer: sealer, entries: map[string]Entry{}, saved: map[string][]byte{}}
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
	for _, k := range slices.Sorted(maps.Keys(sec.Data)) {
		var e Entry
		if json.Unmarshal(sec.Data[k], &e) != nil {
			continue // unreadable entries count as absent: they are generated again
		}
		ok, err := s.authentic(ctx, k, e)
		if err != nil {
			return nil, err
		}
		if !ok {
			e.Lease, e.Retired, e.NextRenewal = nil, nil, time.Time{}
			s.rejected = append(s.rejected, k)
		}
		e.Seal = ""
		s.entries[k] = e
	}
	return s, nil
}

// Rejected lists the entries whose lease record failed its seal at Load.
func (s *State) Rejected() []string { return s.rejected }

// authentic reports whether e's lease record is one the operator sealed for
// this owner and key, and within bounds. An entry without one needs no seal.
func (s *State) authentic(ctx context.Context, key string, e Entry) (bool, error) {
	if e.Lease == nil && len(e.Retired) == 0 {
		return true, nil
	}
	if s.sealer == nil || e.Seal == "" || !bounded(e) {
		return false, nil
	}
	return s.sealer.Check(ctx, s.sealed(key, e), e.Seal)
}

// bounded reports whether a record's fields are within the sizes the
// operator writes, so that nothing oversized is held or sent.
func bounded(e Entry) bool {
	if len(e.Retired) > MaxRetired {
		return false
	}
	leases := []*generator.Lease{e.Lease}
	for i := range e.Retired {
		leases = append(leases, &e.Retired[i].Lease)
	}
	for _, l := range leases {
		if l != nil && (len(l.ID) > maxLeaseField || len(l.Path) > maxLeaseField || len(l.Token) > maxLeaseField) {
			return false
		}
	}
	return true
}

// sealed is the message a record's seal covers: the owner's kind and UID, the
// entry's key and its lease record, so that no record can be moved to another
// owner or entry.
func (s *State) sealed(key string, e Entry) []byte {
	rec, _ := json.Marshal(struct {
		Lease   *generator.Lease `json:"lease"`
		Retired []Retired        `json:"retired"`
	}{e.Lease, e.Retired}) // plain structs: Marshal cannot fail
	msg := fmt.Sprintf("baosync lease record v1\x00%s\x00%s\x00%s\x00", s.gvk.Kind, s.owner.GetUID(), key)
	return append([]byte(msg), rec...)
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
		if e.Lease != nil || len(e.Retired) > 0 {
			if s.sealer == nil {
				return fmt.Errorf("generator state %s: a lease record needs the operator's lease key", k)
			}
			seal, err := s.sealer.Seal(ctx, s.sealed(k, e))
			if err != nil {
				return err
			}
			e.Seal = seal
		}
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
