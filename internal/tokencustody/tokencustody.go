// Package tokencustody keeps, across restarts and leader changes, the login
// tokens that own dynamic-secret leases. OpenBao and Vault revoke a lease with
// the token that issued it; an operator that forgot the token at a restart
// could neither renew it nor stop it from expiring, and every credential it
// issued would die with it. Each token is kept in a Secret of the operator's
// own namespace (where tenants have no access), encrypted with the operator's
// key and bound to the client it belongs to, so that a copy moved to another
// name does not open.
package tokencustody

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Labels of the Secrets the store writes: the mark, the namespace of the
// generator whose token it keeps ("cluster" for a ClusterGenerator), and a
// hash of the client it belongs to, so that a client keeps one record and a
// namespace at most MaxPerNamespace.
const (
	Label          = "baosync.io/token-custody"
	LabelNamespace = "baosync.io/token-namespace"
	LabelOwner     = "baosync.io/token-owner"
)

// MaxPerNamespace bounds the records of one namespace's generators: past it,
// the oldest go (their tokens are not taken over at a restart, and their
// leases are issued anew then). A tenant whose generators change in a loop
// cannot fill the operator's namespace.
const MaxPerNamespace = 32

// tokenField is the encrypted token's field.
const tokenField = "token"

// Cipher encrypts a token bound to additional data (operatorkey.Key).
type Cipher interface {
	// Encrypt encrypts plaintext bound to aad.
	Encrypt(ctx context.Context, plaintext, aad []byte) ([]byte, error)
	// Decrypt opens what Encrypt made with the same aad.
	Decrypt(ctx context.Context, ciphertext, aad []byte) ([]byte, error)
}

// Store keeps tokens by the ID of the client that holds them.
type Store struct {
	reader    client.Reader // uncached: the operator caches no Secret of its namespace
	writer    client.Writer
	namespace string
	cipher    Cipher
}

// New returns a Store of Secrets in namespace, read with r (not the manager's
// cache) and written with w.
func New(r client.Reader, w client.Writer, namespace string, c Cipher) *Store {
	return &Store{reader: r, writer: w, namespace: namespace, cipher: c}
}

// name is the Secret's name for a client ID: a hash, since IDs hold slashes
// and names of the tenant's objects.
func name(id string) string { return "baosync-token-" + hash(id) }

// Load returns the token kept for id. A Secret that does not open (another
// key, or moved from another name) counts as absent.
func (s *Store) Load(ctx context.Context, id string) (string, bool, error) {
	sec := &corev1.Secret{}
	err := s.reader.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name(id)}, sec)
	if apierrors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read the kept token of %s: %w", id, err)
	}
	tok, err := s.cipher.Decrypt(ctx, sec.Data[tokenField], []byte(id))
	if err != nil {
		return "", false, nil //nolint:nilerr // an unreadable record is no token: the caller logs in
	}
	return string(tok), true, nil
}

// Save keeps token for id, replacing what was kept, and drops the earlier
// records of the same owner (the client before its generator or auth
// changed) and the oldest of the namespace past MaxPerNamespace.
func (s *Store) Save(ctx context.Context, id, owner, namespace, token string) error {
	enc, err := s.cipher.Encrypt(ctx, []byte(token), []byte(id))
	if err != nil {
		return err
	}
	if namespace == "" {
		namespace = "cluster"
	}
	labels := map[string]string{Label: "true", LabelNamespace: namespace, LabelOwner: hash(owner),
		"app.kubernetes.io/managed-by": "baosync"}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: name(id), Labels: labels},
		Type:       corev1.SecretTypeOpaque, Data: map[string][]byte{tokenField: enc},
	}
	err = s.writer.Create(ctx, sec)
	if apierrors.IsAlreadyExists(err) {
		cur := &corev1.Secret{}
		if err = s.reader.Get(ctx, client.ObjectKeyFromObject(sec), cur); err == nil {
			cur.Data, cur.Labels = sec.Data, labels
			err = s.writer.Update(ctx, cur)
		}
	}
	if err != nil {
		return fmt.Errorf("keep the token of %s: %w", id, err)
	}
	return s.prune(ctx, sec.Name, labels)
}

// prune deletes, among the records of the namespace, the owner's others and
// the oldest past MaxPerNamespace; keep is the record just written.
func (s *Store) prune(ctx context.Context, keep string, labels map[string]string) error {
	list := &corev1.SecretList{}
	if err := s.reader.List(ctx, list, client.InNamespace(s.namespace),
		client.MatchingLabels{Label: "true", LabelNamespace: labels[LabelNamespace]}); err != nil {
		return fmt.Errorf("list kept tokens: %w", err)
	}
	others := make([]corev1.Secret, 0, len(list.Items))
	for _, sec := range list.Items {
		if sec.Name != keep {
			others = append(others, sec)
		}
	}
	slices.SortFunc(others, func(a, b corev1.Secret) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	over := len(others) + 1 - MaxPerNamespace
	for i := range others {
		if others[i].Labels[LabelOwner] == labels[LabelOwner] || i < over {
			if err := s.writer.Delete(ctx, &others[i]); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("drop a kept token: %w", err)
			}
		}
	}
	return nil
}

// hash is a label-safe digest of s.
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:10])
}

// Delete forgets the token kept for id.
func (s *Store) Delete(ctx context.Context, id string) error {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: name(id)}}
	if err := s.writer.Delete(ctx, sec); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("forget the token of %s: %w", id, err)
	}
	return nil
}
