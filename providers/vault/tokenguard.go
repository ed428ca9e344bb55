package vault

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/baosync/baosync/providers"
)

// tokenLifetime is the lifetime of every ServiceAccount token baosync requests:
// the API server's minimum. The token is used once, right away, for a login;
// a longer life would only serve whoever intercepts it.
const tokenLifetime = 10 * time.Minute

// defaultAudience is the audience of requested tokens when the store names none.
const defaultAudience = "vault"

// verdictTTL is how long a token shape found safe stays trusted before the API
// server is asked again (its accepted audiences can change with its flags).
const verdictTTL = time.Hour

// tokenGuard makes sure that no Kubernetes token the API server itself accepts
// is ever sent to a store's server, which a tenant may run. It asks the API
// server (TokenReview) once per token shape: per audience set for requested
// tokens, per token for the operator's own file.
type tokenGuard struct {
	mu   sync.Mutex
	safe map[string]time.Time // shape -> when it was found safe
}

// check fails with ErrInvalidConfig when the API server accepts token. shape
// names what makes tokens alike (their audiences), so one review serves all
// tokens of that shape; what names the token for the message.
func (g *tokenGuard) check(ctx context.Context, kube providers.Kube, token, shape, what string, now time.Time) error {
	g.mu.Lock()
	at, ok := g.safe[shape]
	g.mu.Unlock()
	if ok && now.Sub(at) < verdictTTL {
		return nil
	}
	accepted, err := kube.AcceptedByAPIServer(ctx, token)
	if err != nil {
		return fmt.Errorf("%s: could not check that the token is not a Kubernetes API credential, so it is not sent: %w: %w", what, providers.ErrUnavailable, err)
	}
	if accepted {
		return fmt.Errorf("%s: the Kubernetes API server accepts this token, so it is never sent to a store's server; "+
			"request an audience the API server does not accept, such as %q, and bind the Vault role to it: %w", what, defaultAudience, providers.ErrInvalidConfig)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.safe == nil || len(g.safe) > 1024 { // bounded: shapes are few; start over if not
		g.safe = map[string]time.Time{}
	}
	g.safe[shape] = now
	return nil
}

// audiencesOrDefault returns the audiences to request: the given ones, or vault.
func audiencesOrDefault(aud ...[]string) []string {
	for _, a := range aud {
		if len(a) > 0 {
			return a
		}
	}
	return []string{defaultAudience}
}

// audienceShape names an audience set for the guard's cache.
func audienceShape(aud []string) string { return "aud:" + strings.Join(aud, "\x00") }
