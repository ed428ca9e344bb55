// Package operatorkey holds the operator's own secret key, a Secret in the
// operator's namespace created on first use, and what is derived from it:
//   - seals (HMAC) of the lease records the operator keeps in a tenant's
//     namespace. A generator state Secret lives where its owner's namespace can
//     write it, yet what it says decides which leases the operator renews and
//     revokes, and with which generator's identity; a record is sealed bound to
//     the owner's kind, UID and entry, so that one a tenant wrote, or copied
//     from another object, fails the check and is acted on by no one;
//   - encryption (AES-GCM) of the login tokens the operator keeps across
//     restarts for the leases they own (tokencustody).
//
// Each use has its own key, derived from the root key, so that a seal never
// serves as an encryption key or the reverse.
package operatorkey

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultSecretName is the key Secret's name in the operator's namespace.
const DefaultSecretName = "baosync-operator-key"

// keyField is the key's field in the Secret; keySize its length.
const (
	keyField = "key"
	keySize  = 32
)

// Key seals and checks lease records, and encrypts tokens. The key is read, or created, on first
// use, and kept in memory; a failure to read it fails the caller (nothing is
// decided on a record that cannot be checked) and is tried again next time.
type Key struct {
	reader    client.Reader // uncached: the operator caches no Secret of its own namespace
	write     client.Writer
	namespace string
	name      string

	mu  sync.Mutex
	key []byte
}

// New returns the Key kept in Secret namespace/name, read with r (which must
// not be the manager's cache) and created with w.
func New(r client.Reader, w client.Writer, namespace, name string) *Key {
	return &Key{reader: r, write: w, namespace: namespace, name: name}
}

// Static returns a Key that holds key, for tests and tools that never
// persist it.
func Static(key []byte) *Key { return &Key{key: key} }

// Seal returns the seal of msg.
func (k *Key) Seal(ctx context.Context, msg []byte) (string, error) {
	key, err := k.derived(ctx, "lease record seal v1")
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil)), nil
}

// derived is the key of one use, derived from the root key.
func (k *Key) derived(ctx context.Context, use string) ([]byte, error) {
	root, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, root)
	m.Write([]byte("baosync operator key/" + use))
	return m.Sum(nil), nil
}

// Encrypt encrypts plaintext bound to aad (AES-256-GCM, random nonce first).
func (k *Key) Encrypt(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	aead, err := k.aead(ctx)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("make a nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plaintext, aad), nil
}

// Decrypt opens what Encrypt made with the same aad.
func (k *Key) Decrypt(ctx context.Context, ciphertext, aad []byte) ([]byte, error) {
	aead, err := k.aead(ctx)
	if err != nil {
		return nil, err
	}
	if len(ciphertext) < aead.NonceSize() {
		return nil, errors.New("ciphertext too short")
	}
	n := aead.NonceSize()
	out, err := aead.Open(nil, ciphertext[:n], ciphertext[n:], aad)
	if err != nil {
		return nil, errors.New("ciphertext does not open with the operator's key")
	}
	return out, nil
}

// aead is the token encryption's cipher.
func (k *Key) aead(ctx context.Context) (cipher.AEAD, error) {
	key, err := k.derived(ctx, "token encryption v1")
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("token cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// Check reports whether seal is msg's seal.
func (k *Key) Check(ctx context.Context, msg []byte, seal string) (bool, error) {
	want, err := k.Seal(ctx, msg)
	if err != nil {
		return false, err
	}
	return hmac.Equal([]byte(want), []byte(seal)), nil
}

// load returns the key, reading or creating its Secret the first time.
func (k *Key) load(ctx context.Context) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, nil
	}
	key, err := k.read(ctx)
	if apierrors.IsNotFound(err) {
		key, err = k.create(ctx)
	}
	if apierrors.IsAlreadyExists(err) { // another replica created it first
		key, err = k.read(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("read the lease key Secret %s/%s: %w", k.namespace, k.name, err)
	}
	k.key = key
	return key, nil
}

// read reads the key Secret; a Secret without a usable key is an error an
// admin must fix (deleting it makes a new key, and every lease is issued anew).
func (k *Key) read(ctx context.Context) ([]byte, error) {
	sec := &corev1.Secret{}
	if err := k.reader.Get(ctx, client.ObjectKey{Namespace: k.namespace, Name: k.name}, sec); err != nil {
		return nil, err
	}
	key := sec.Data[keyField]
	if len(key) < keySize {
		return nil, fmt.Errorf("the Secret %s/%s holds no %d-byte %q; delete it to make a new key", k.namespace, k.name, keySize, keyField)
	}
	return key, nil
}

// create makes the key Secret with a fresh random key.
func (k *Key) create(ctx context.Context) ([]byte, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("make a lease key: %w", err)
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: k.namespace, Name: k.name,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "baosync"}},
		Type: corev1.SecretTypeOpaque, Data: map[string][]byte{keyField: key},
	}
	if err := k.write.Create(ctx, sec); err != nil {
		return nil, err
	}
	return key, nil
}
