// Package providers is the contract between the reconcilers and the code that
// talks to a secret backend: the Provider and SecretsClient interfaces, the value
// types they pass, and the sentinel errors that decide behaviour.
//
// Controllers depend on this package only; they never speak HTTP to a server.
// Implementations (providers/vault, providers/fake) depend on it and on api.
package providers
