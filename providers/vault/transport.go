package vault

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"

	"github.com/openbao/openbao/api/v2"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

// tlsMaterial is what a store's TLS settings resolve to.
type tlsMaterial struct {
	caBundle   []byte
	clientCert []byte
	clientKey  []byte
}

// readTLS resolves caBundle/caProvider and the client certificate (from tls or
// from cert auth) through the narrow Kube interface.
func readTLS(ctx context.Context, r *refResolver, v *v1alpha1.VaultProvider) (tlsMaterial, error) {
	var m tlsMaterial
	m.caBundle = v.CABundle
	if p := v.CAProvider; p != nil {
		ns, err := r.namespace(p.Namespace, "caProvider")
		if err != nil {
			return m, err
		}
		var b []byte
		switch p.Type {
		case v1alpha1.CAProviderTypeConfigMap:
			b, err = r.kube.ConfigMapValue(ctx, ns, p.Name, p.Key)
		default:
			b, err = r.kube.SecretValue(ctx, ns, p.Name, p.Key)
		}
		if err != nil {
			return m, fmt.Errorf("read caProvider %s %s/%s key %q: %w: %w", p.Type, ns, p.Name, p.Key, providers.ErrInvalidConfig, err)
		}
		m.caBundle = append(append([]byte{}, m.caBundle...), b...)
	}
	certRef, keyRef := clientCertRefs(v)
	if certRef != nil && keyRef != nil {
		var err error
		if m.clientCert, err = r.secret(ctx, certRef, "tls.crt", "client certificate", providers.ErrInvalidConfig); err != nil {
			return m, err
		}
		if m.clientKey, err = r.secret(ctx, keyRef, "tls.key", "client key", providers.ErrInvalidConfig); err != nil {
			return m, err
		}
	}
	return m, nil
}

// clientCertRefs picks the client certificate: cert auth's own, else tls.
func clientCertRefs(v *v1alpha1.VaultProvider) (cert, key *v1alpha1.SecretKeySelector) {
	if c := v.Auth.Cert; c != nil {
		return &c.ClientCert, &c.SecretRef
	}
	if t := v.TLS; t != nil {
		return t.CertSecretRef, t.KeySecretRef
	}
	return nil, nil
}

// newAPIClient builds an unauthenticated client for the store's server. It
// never reads the process environment (BAO_ADDR, VAULT_TOKEN, …).
func newAPIClient(v *v1alpha1.VaultProvider, m tlsMaterial, o *options) (*api.Client, error) {
	cfg := api.NewConfig()
	cfg.Address = strings.TrimRight(v.Server, "/")
	cfg.Timeout = o.requestTimeout
	cfg.MaxRetries = 0 // the reconcilers back off; retries here would multiply traffic in an outage
	// Read-your-writes: track the server's index and ask standbys to wait for it
	// or forward to the active node.
	cfg.DefaultStrongConsistency = v.ReadYourWrites
	// No cfg.Limiter: the store's budget is kept by fairShare, which never
	// holds a worker for long.
	if len(m.caBundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(m.caBundle) {
			return nil, fmt.Errorf("caBundle holds no PEM certificate: %w", providers.ErrInvalidConfig)
		}
	}
	if err := cfg.ConfigureTLS(&api.TLSConfig{
		CACertBytes:     m.caBundle,
		ClientCertBytes: m.clientCert,
		ClientKeyBytes:  m.clientKey,
	}); err != nil {
		return nil, fmt.Errorf("configure TLS: %w: %w", providers.ErrInvalidConfig, err)
	}
	if err := guardTransport(cfg, o.bigAnswers); err != nil {
		return nil, err
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("create client for %s: %w: %w", cfg.Address, providers.ErrInvalidConfig, err)
	}
	c.ClearToken()
	if v.Namespace != nil {
		c.SetNamespace(*v.Namespace)
	}
	for k, val := range v.Headers {
		c.AddHeader(k, val)
	}
	if v.ReadYourWrites {
		// ESO sends X-Vault-Inconsistent: forward-active-node exactly when both
		// readYourWrites and forwardInconsistent are set, and never otherwise;
		// OpenBao's strong consistency would send await-state and
		// forward-active-node always. Only the index tracking is kept.
		if v.ForwardInconsistent {
			c.SetInconsistent(api.IndexInconsistentForward)
		} else {
			c.SetInconsistent()
		}
	}
	return c, nil
}

// guardTransport makes the transport ask for uncompressed answers with small
// headers, and wraps it in guard. It runs after ConfigureTLS, which needs the
// bare *http.Transport; NewClient and Clone accept any RoundTripper for an
// http(s) address.
func guardTransport(cfg *api.Config, big chan struct{}) error {
	t, ok := cfg.HttpClient.Transport.(*http.Transport)
	if !ok {
		return fmt.Errorf("unexpected transport %T", cfg.HttpClient.Transport)
	}
	// No gzip: a small compressed answer could expand past any cap before the
	// JSON decoder sees it; guard refuses a compressed answer sent anyway.
	t.DisableCompression = true
	t.MaxResponseHeaderBytes = maxResponseHeaderBytes
	cfg.HttpClient.Transport = &guard{next: t, big: big}
	return nil
}
