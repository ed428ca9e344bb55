package outcome

import (
	"errors"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/providers"
)

var secrets = schema.GroupResource{Resource: "secrets"}

func TestFromProvider_EachSentinelHasItsReasonAndClass(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		reason string
		class  Class
		after  time.Duration
	}{
		{"a missing remote secret waits for the next refresh", fmt.Errorf("read: %w", providers.ErrNotFound), v1alpha1.ReasonRemoteNotFound, Waiting, 0},
		{"a missing property waits", providers.ErrPropertyNotFound, v1alpha1.ReasonPropertyNotFound, Waiting, 0},
		{"a refused login backs off quietly", fmt.Errorf("login: %w", providers.ErrAuth), v1alpha1.ReasonAuthFailed, Refused, 0},
		{"a refused read backs off quietly", providers.ErrPermissionDenied, v1alpha1.ReasonPermissionDenied, Refused, 0},
		{"a key outside the mounts waits for the spec to change", providers.ErrInvalidRef, v1alpha1.ReasonInvalidSpec, Terminal, 0},
		{"a bad store waits for the store to change", providers.ErrInvalidConfig, v1alpha1.ReasonInvalidStoreConfig, Terminal, 0},
		{"throttling waits as long as the share says", &providers.ThrottledError{Store: "s", Namespace: "n", After: 3 * time.Second}, v1alpha1.ReasonThrottled, Waiting, 3 * time.Second},
		{"an unreachable server backs off as an error", providers.ErrUnavailable, v1alpha1.ReasonProviderUnavailable, Transient, 0},
		{"an unknown error backs off as an error", errors.New("boom"), v1alpha1.ReasonProviderUnavailable, Transient, 0},
		{"a classified error keeps its class", Waitingf(v1alpha1.ReasonStoreNotReady, 30*time.Second, "not ready"), v1alpha1.ReasonStoreNotReady, Waiting, 30 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oe := As(FromProvider(tc.err), "")
			if oe.Reason != tc.reason || oe.Class != tc.class || oe.After != tc.after {
				t.Fatalf("got %s/%d/%v, want %s/%d/%v", oe.Reason, oe.Class, oe.After, tc.reason, tc.class, tc.after)
			}
			if !errors.Is(oe, tc.err) {
				t.Fatal("the classified error does not wrap the provider's")
			}
		})
	}
}

func TestFromKube_RefusalsAreQuietAndAPIServerFailuresAreErrors(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		class Class
	}{
		{"RBAC forbids the write", apierrors.NewForbidden(secrets, "db", errors.New(`cannot create resource "secrets"`)), Refused},
		{"a quota is exceeded", apierrors.NewForbidden(secrets, "db", errors.New("exceeded quota: secrets")), Refused},
		{"an admission webhook denies it", apierrors.NewBadRequest(`admission webhook "policy.example.com" denied the request`), Refused},
		{"the object is invalid", apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "db", nil), Refused},
		{"an update lost a race", apierrors.NewConflict(secrets, "db", errors.New("modified")), Refused},
		{"the API server timed out", apierrors.NewServerTimeout(secrets, "create", 1), Transient},
		{"the API server failed", apierrors.NewInternalError(errors.New("etcd")), Transient},
		{"the API server is overloaded", apierrors.NewTooManyRequests("slow down", 1), Transient},
		{"the API server cannot be reached", errors.New("dial tcp: connection refused"), Transient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oe := As(FromKube(`create Secret "db"`, tc.err), "")
			if oe.Reason != v1alpha1.ReasonKubernetesAPIError || oe.Class != tc.class {
				t.Fatalf("got %s/%d, want %s/%d", oe.Reason, oe.Class, v1alpha1.ReasonKubernetesAPIError, tc.class)
			}
			if !errors.Is(oe, tc.err) {
				t.Fatal("the classified error does not wrap the API server's")
			}
		})
	}
	if FromKube("get", nil) != nil {
		t.Fatal("no error must stay no error")
	}
}

func TestAs_FindsTheClassThatDecides(t *testing.T) {
	patchFailed := FromKube("patch status", apierrors.NewForbidden(secrets, "db", errors.New("no")))
	cases := []struct {
		name   string
		err    error
		reason string
		class  Class
	}{
		{"an unclassified error is transient with the caller's reason", errors.New("boom"), v1alpha1.ReasonProviderUnavailable, Transient},
		{"an unclassified answer of the API server is a KubernetesAPIError", fmt.Errorf("get: %w", apierrors.NewForbidden(secrets, "x", errors.New("no"))), v1alpha1.ReasonKubernetesAPIError, Refused},
		{"a wrapped classified error keeps its class", fmt.Errorf("store s: %w", Terminalf(v1alpha1.ReasonInvalidSpec, "bad")), v1alpha1.ReasonInvalidSpec, Terminal},
		{"a failed status write is retried even after a terminal failure", errors.Join(Terminalf(v1alpha1.ReasonTemplateError, "bad"), patchFailed), v1alpha1.ReasonKubernetesAPIError, Refused},
		{"an unclassified sentinel beside a classified error does not decide", fmt.Errorf("%w: %w", errors.New("gone"), Waitingf(v1alpha1.ReasonRemoteNotFound, 0, "gone")), v1alpha1.ReasonRemoteNotFound, Waiting},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oe := As(tc.err, v1alpha1.ReasonProviderUnavailable)
			if oe.Reason != tc.reason || oe.Class != tc.class {
				t.Fatalf("got %s/%d, want %s/%d", oe.Reason, oe.Class, tc.reason, tc.class)
			}
		})
	}
}
