package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/baosync/baosync/providers"
)

// tokenLifetime is the lifetime of every ServiceAccount token baosync requests:
// the API server's minimum. The token is used once, right away, for a login;
// a longer life would only serve whoever intercepts it.
const tokenLifetime = 10 * time.Minute

// defaultAudience is the audience of requested tokens when the store names none.
const defaultAudience = "vault"

// refuseAPICredential makes sure that no Kubernetes token the API server itself
// accepts is ever sent to a store's server, which a tenant may run: it fails
// with ErrInvalidConfig when the API server accepts token; what names the token
// for the message. Every token is reviewed (TokenReview with the API server's
// own audiences) before it is sent: once per login, which is once per token
// lifetime of a store. Verdicts are not cached: a verdict kept by audience set
// could be borrowed by another store whose audiences only look the same, and a
// token refused for a passing reason would vouch for the next one.
func refuseAPICredential(ctx context.Context, kube providers.Kube, token, what string) error {
	accepted, err := kube.AcceptedByAPIServer(ctx, token)
	if err != nil {
		return fmt.Errorf("%s: could not check that the token is not a Kubernetes API credential, so it is not sent: %w: %w", what, providers.ErrUnavailable, err)
	}
	if accepted {
		return fmt.Errorf("%s: the Kubernetes API server accepts this token, so it is never sent to a store's server; "+
			"request an audience the API server does not accept, such as %q, and bind the Vault role to it: %w", what, defaultAudience, providers.ErrInvalidConfig)
	}
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
