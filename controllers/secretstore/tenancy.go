package secretstore

import (
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/tenancy"
	"github.com/baosync/baosync/providers"
)

// sharedRecheck bounds how stale a shared store's list of failed namespaces
// is: logins happen as namespaces use the store, not when it is checked.
const sharedRecheck = time.Minute

// maxFailedListed bounds status.tenancy.failed (the CRD says 20).
const maxFailedListed = 20

// validateShared checks a store that serves each namespace as itself. It has
// no identity of its own to log in with: it is Ready when its tenancy section
// is valid, and its status counts the namespaces it served and lists those
// whose last login failed, with the Reason their objects show.
func (r *storeReconciler) validateShared(store v1alpha1.GenericStore, tr providers.TenantReporter, interval time.Duration) outcome.Result {
	if err := checkTenancy(store.GetSpec().Tenancy); err != nil {
		r.setReady(store, metav1.ConditionFalse, v1alpha1.ReasonInvalidStoreConfig, err.Error())
		return outcome.Failed(outcome.Terminalf(v1alpha1.ReasonInvalidStoreConfig, "%w", err), 0)
	}
	st := tenancyStatus(tr.Tenants(fmt.Sprintf("%s/%s/%s", store.GetKind(), store.GetNamespace(), store.GetName())))
	store.GetStatus().Tenancy = st
	msg := fmt.Sprintf("The store serves each namespace as itself (%d so far); it has no identity of its own to log in with", st.Namespaces)
	if st.LoginFailures > 0 {
		msg += fmt.Sprintf("; %d namespaces failed their last login, see status.tenancy.failed", st.LoginFailures)
	}
	r.setReady(store, metav1.ConditionTrue, v1alpha1.ReasonStoreValid, msg)
	return outcome.Next(outcome.Jitter(min(interval, sharedRecheck)))
}

// checkTenancy checks what admission checks of a tenancy section, for stores
// that did not pass through admission with this CRD.
func checkTenancy(t *v1alpha1.StoreTenancy) error {
	if t == nil {
		return nil
	}
	fields := map[string]*string{"tenancy.pathPrefix": &t.PathPrefix, "tenancy.mount": t.Mount, "tenancy.role": t.Role, "tenancy.namespace": t.Namespace}
	for name, f := range fields {
		if f == nil {
			continue
		}
		if err := tenancy.Check(*f); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if t.Role != nil && !tenancy.RoleSafe(*t.Role) {
		return errors.New("tenancy.role names a label but not {namespace}: a tenant who can label its namespace would choose another's role")
	}
	if !tenancy.Segment(t.PathPrefix) && (t.Namespace == nil || !tenancy.Segment(*t.Namespace)) {
		return errors.New("tenancy.pathPrefix or tenancy.namespace must hold {namespace} as a whole path segment, so that no two namespaces share a part of the server")
	}
	return nil
}

// tenancyStatus summarizes the namespaces' last logins, naming at most
// maxFailedListed of those that failed.
func tenancyStatus(logins []providers.TenantLogin) *v1alpha1.TenancyStatus {
	st := &v1alpha1.TenancyStatus{Namespaces: len(logins)}
	for _, l := range logins {
		if l.Err == nil {
			continue
		}
		st.LoginFailures++
		if len(st.Failed) < maxFailedListed {
			oe := outcome.As(outcome.FromProvider(l.Err), v1alpha1.ReasonAuthFailed)
			st.Failed = append(st.Failed, v1alpha1.TenantFailure{Namespace: l.Namespace, Reason: oe.Reason, Message: clip(oe.Err.Error(), 1024)})
		}
	}
	return st
}

// clip shortens s to at most n bytes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
