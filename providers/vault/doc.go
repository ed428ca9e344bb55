// Package vault is the one provider implementation, for OpenBao and HashiCorp
// Vault, on github.com/openbao/openbao/api/v2.
//
// It caches one client per store (keyed by the store's UID and generation, and
// rebuilt when the auth material it read changes), logs in once per token
// lifetime, renews or logs in again before expiry and after a 403, and coalesces
// identical reads in flight. It reads Kubernetes objects only through the narrow
// providers.Kube it is handed, and never imports the controllers.
package vault
