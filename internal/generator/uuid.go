package generator

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
)

// UUID generates a random (version 4, RFC 9562) UUID under the key "uuid", as
// ESO does.
type UUID struct{}

// Generate implements Generator.
func (UUID) Generate(context.Context) (map[string][]byte, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, outcome.Transientf(v1alpha1.ReasonGeneratorFailed, "UUID: read random bytes: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	s := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	return map[string][]byte{"uuid": []byte(s)}, nil
}
