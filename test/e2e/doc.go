// Package e2e holds tests that run the operator as separate processes against
// the real API server and Vault: what only a whole process can show, such as
// leader election across replicas and a replica killed mid-burst.
package e2e
