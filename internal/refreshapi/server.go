// Package refreshapi is the refresh endpoint of instant updates: a pipeline
// that just wrote a secret asks the operator to refresh what reads it, with
// its own Kubernetes token. The caller is authenticated with a TokenReview and
// authorised with a SubjectAccessReview of the verb "refresh" on the object or
// store it names, so a ready Role grants exactly that and nothing else. A
// request only makes objects sync sooner, through their normal rules.
package refreshapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/nslimit"
	"github.com/baosync/baosync/providers/vault"
)

// Verb is the RBAC verb the endpoint checks.
const Verb = "refresh"

// Audience is the audience a caller's token must carry (kubectl create token
// --audience=baosync-refresh): a token the API server itself accepts is never
// what a pipeline sends here.
const Audience = "baosync-refresh"

// Target is what a request refreshes.
type Target interface {
	// Trigger refreshes the objects that read path (as vault.KeyPath places
	// it) of store ("Kind/namespace/name") and returns how many.
	Trigger(store, path string) int
	// TriggerObject refreshes one ExternalSecret.
	TriggerObject(key types.NamespacedName)
}

// Request is the JSON body of POST /refresh.
type Request struct {
	// Kind is ExternalSecret, SecretStore or ClusterSecretStore.
	Kind string `json:"kind"`
	// Namespace of the object (empty for a ClusterSecretStore).
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
	// Path is, for a store, the remote key that changed, as an
	// ExternalSecret of that store writes it (e.g. app/db or secret/app/db).
	Path string `json:"path,omitempty"`
}

// Response is the answer to an accepted request.
type Response struct {
	// Refreshed is how many ExternalSecrets were made due.
	Refreshed int `json:"refreshed"`
}

// Server is the endpoint.
type Server struct {
	// Addr is the HTTPS address, e.g. ":8301".
	Addr string
	// TLS serves the endpoint's certificate.
	TLS *tls.Config
	// Client creates TokenReviews and SubjectAccessReviews and reads stores.
	Client client.Client
	// Target is what requests refresh.
	Target Target
	// Log tells refused and accepted requests (never a token).
	Log logr.Logger

	limit  *rate.Limiter     // all requests
	byAddr *nslimit.Limiters // each source address, before authentication
	byUser *nslimit.Limiters // each authenticated user
}

// maxBody bounds a request body.
const maxBody = 4 << 10

// Start serves until ctx ends; it is a manager Runnable.
func (s *Server) Start(ctx context.Context) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("refresh endpoint: listen on %s: %w", s.Addr, err)
	}
	return s.Serve(ctx, l)
}

// Serve serves on l until ctx ends.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	s.limit, s.byAddr, s.byUser = rate.NewLimiter(50, 100), nslimit.New(5, 10), nslimit.New(10, 20)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /refresh", s.serve)
	srv := &http.Server{Handler: mux, TLSConfig: s.TLS, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	s.Log.Info("refresh endpoint listening", "address", l.Addr().String())
	if err := srv.Serve(tls.NewListener(l, s.TLS)); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("refresh endpoint: %w", err)
	}
	return nil
}

// NeedLeaderElection is true: only the leader holds the index of what reads
// which path.
func (s *Server) NeedLeaderElection() bool { return true }

// serve answers one request: 401 without a valid token, 403 without the
// verb, 429 past the endpoint's rate, 202 with how many objects refresh.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if !s.byAddr.Get(addrOf(r), now).Allow() || !s.limit.Allow() {
		http.Error(w, "too many refresh requests; try again shortly", http.StatusTooManyRequests)
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		http.Error(w, "send a Kubernetes token: Authorization: Bearer <token>", http.StatusUnauthorized)
		return
	}
	var req Request
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&req); err != nil {
		http.Error(w, "the body must be JSON: {\"kind\":...,\"namespace\":...,\"name\":...,\"path\":...}", http.StatusBadRequest)
		return
	}
	resource, err := resourceOf(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	user, err := s.authenticate(r.Context(), token)
	if err != nil {
		http.Error(w, "the token was not accepted; request one with the audience "+Audience, http.StatusUnauthorized)
		return
	}
	if !s.byUser.Get(user.Username, now).Allow() {
		http.Error(w, "too many refresh requests from "+user.Username+"; try again shortly", http.StatusTooManyRequests)
		return
	}
	if allowed, err := s.authorize(r.Context(), user, resource, req); err != nil || !allowed {
		s.Log.Info("refresh refused", "user", user.Username, "kind", req.Kind, "namespace", req.Namespace, "name", req.Name)
		http.Error(w, fmt.Sprintf("%s may not %s %s %s/%s", user.Username, Verb, resource, req.Namespace, req.Name), http.StatusForbidden)
		return
	}
	n, err := s.trigger(r.Context(), req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.Log.V(1).Info("refresh asked", "user", user.Username, "kind", req.Kind, "namespace", req.Namespace, "name", req.Name, "refreshed", n)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(Response{Refreshed: n})
}

// addrOf is the request's source address without its port.
func addrOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// resourceOf is the resource a request names, checked for shape.
func resourceOf(req Request) (string, error) {
	switch {
	case req.Name == "":
		return "", errors.New("name is required")
	case req.Kind == "ExternalSecret" && req.Namespace != "":
		return "externalsecrets", nil
	case req.Kind == string(v1alpha1.SecretStoreKindNamespaced) && req.Namespace != "" && req.Path != "":
		return "secretstores", nil
	case req.Kind == string(v1alpha1.SecretStoreKindCluster) && req.Namespace == "" && req.Path != "":
		return "clustersecretstores", nil
	}
	return "", errors.New("name an ExternalSecret (kind, namespace, name), or a SecretStore (kind, namespace, name, path) or ClusterSecretStore (kind, name, path)")
}

// authenticate reviews the caller's token with the API server.
func (s *Server) authenticate(ctx context.Context, token string) (authenticationv1.UserInfo, error) {
	tr := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: []string{Audience}}}
	if err := s.Client.Create(ctx, tr); err != nil {
		return authenticationv1.UserInfo{}, err
	}
	if !tr.Status.Authenticated || !slices.Contains(tr.Status.Audiences, Audience) {
		return authenticationv1.UserInfo{}, errors.New("not authenticated")
	}
	return tr.Status.User, nil
}

// authorize asks the API server whether user may "refresh" the object.
func (s *Server) authorize(ctx context.Context, user authenticationv1.UserInfo, resource string, req Request) (bool, error) {
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Group: v1alpha1.GroupVersion.Group, Resource: resource,
			Verb: Verb, Namespace: req.Namespace, Name: req.Name}}}
	if err := s.Client.Create(ctx, sar); err != nil {
		return false, err
	}
	return sar.Status.Allowed, nil
}

// trigger refreshes what the request names.
func (s *Server) trigger(ctx context.Context, req Request) (int, error) {
	if req.Kind == "ExternalSecret" {
		s.Target.TriggerObject(types.NamespacedName{Namespace: req.Namespace, Name: req.Name})
		return 1, nil
	}
	var store v1alpha1.GenericStore = &v1alpha1.ClusterSecretStore{}
	if req.Kind == string(v1alpha1.SecretStoreKindNamespaced) {
		store = &v1alpha1.SecretStore{}
	}
	if err := s.Client.Get(ctx, client.ObjectKey{Namespace: req.Namespace, Name: req.Name}, store); err != nil {
		return 0, fmt.Errorf("get %s %s/%s: %w", req.Kind, req.Namespace, req.Name, err)
	}
	if store.GetSpec().Provider.Vault == nil {
		return 0, errors.New("the store has no vault provider")
	}
	full, err := vault.KeyPath(store.GetSpec().Provider.Vault, req.Path)
	if err != nil {
		return 0, fmt.Errorf("path: %w", err)
	}
	return s.Target.Trigger(fmt.Sprintf("%s/%s/%s", store.GetKind(), store.GetNamespace(), store.GetName()), full), nil
}
