// Package pushsecret reconciles PushSecrets: it writes keys of a Kubernetes
// Secret into OpenBao/Vault KV v2 stores, marks what it wrote as baosync's,
// refreshes on an interval and, with deletionPolicy Delete, removes what it
// pushed when the PushSecret goes.
package pushsecret

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/controllers/internal/conditions"
	"github.com/baosync/baosync/controllers/internal/statuspatch"
	"github.com/baosync/baosync/internal/kubeaccess"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
	"github.com/baosync/baosync/internal/storeref"
	"github.com/baosync/baosync/providers"
)

// finalizer holds a PushSecret with deletionPolicy Delete until its remote
// secrets are removed.
const finalizer = "baosync.io/pushsecret"

// Reconciler pushes Secrets to stores.
type Reconciler struct {
	client.Client
	// APIReader reads the source Secret (not in the managed-Secrets cache).
	APIReader client.Reader
	Provider  providers.Provider
	Recorder  recorder.EventRecorder
	// Scope is what this operator serves (controller class, namespace).
	Scope scope.Served
}

// +kubebuilder:rbac:groups=baosync.io,resources=pushsecrets,verbs=get;list;watch;update
// +kubebuilder:rbac:groups=baosync.io,resources=pushsecrets/status,verbs=patch

// Reconcile pushes the Secret's keys to every store, or removes them when the
// PushSecret is deleted with deletionPolicy Delete.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res outcome.Result) {
	ps := &v1alpha1.PushSecret{}
	if err := r.Get(ctx, req.NamespacedName, ps); err != nil {
		return outcome.Failed(client.IgnoreNotFound(err), 0)
	}
	if !ps.DeletionTimestamp.IsZero() {
		return outcome.Failed(r.finalize(ctx, ps), 0)
	}
	if err := r.syncFinalizer(ctx, ps); err != nil {
		return outcome.Failed(err, 0)
	}
	before := ps.DeepCopy()
	defer func() {
		res.Err = errors.Join(res.Err, statuspatch.IfChanged(ctx, r.Client, before, ps,
			func(o *v1alpha1.PushSecret) any { return o.Status }))
	}()
	adopted, err := r.push(ctx, ps)
	if errors.Is(err, storeref.ErrOtherController) {
		return outcome.Next(0)
	}
	if err != nil {
		return r.fail(ps, err)
	}
	ps.Status.RefreshTime = metav1.Now()
	conditions.SetReady(r.Recorder, ps, &ps.Status.Conditions, ps.Generation, metav1.ConditionTrue, v1alpha1.ReasonPushed, "Push",
		fmt.Sprintf("%s is pushed to %d store(s)%s", sourceName(ps), len(ps.Spec.SecretStoreRefs), adoptedNote(adopted)))
	if d := refreshInterval(ps); d > 0 {
		return outcome.Next(outcome.Jitter(d))
	}
	return outcome.Next(0) // refreshInterval 0: pushed again only when the PushSecret changes, as ESO
}

// push writes every entry to every store, and returns the remote secrets it
// took over from External Secrets Operator (see v1alpha1.AnnotationAdoptFromESO).
func (r *Reconciler) push(ctx context.Context, ps *v1alpha1.PushSecret) (adopted []string, err error) {
	src, err := r.source(ctx, ps)
	if err != nil {
		return nil, err
	}
	p, err := newPlan(ps, src)
	if err != nil {
		return nil, err
	}
	err = r.eachStore(ctx, ps, p, func(sc providers.SecretsClient, record string, ref providers.PushRef, e entry) error {
		value, err := sourceValue(src.Name, e)
		if err != nil {
			return err
		}
		if !ref.Owned && len(ps.Status.CreatedRemoteSecrets) >= maxRecords {
			return outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "this PushSecret has created %d remote secrets, the most status.createdRemoteSecrets records; "+
				"write the keys to fewer remote secrets (dataTo's remoteKey), or recreate the PushSecret", len(ps.Status.CreatedRemoteSecrets))
		}
		ref.IfNotExists = ps.Spec.UpdatePolicy == "IfNotExists"
		ref.AdoptESO = adoptsFromESO(ps)
		ref.OnAdopt = func() {
			adopted = append(adopted, record)
			r.Recorder.Eventf(ps, nil, corev1.EventTypeNormal, v1alpha1.ReasonAdoptedFromESO, "Push",
				"took over %s from External Secrets Operator: its marker now names this PushSecret (annotation %s)", record, v1alpha1.AnnotationAdoptFromESO)
		}
		created, err := sc.PushSecret(ctx, ref, value)
		if created && !slices.Contains(ps.Status.CreatedRemoteSecrets, record) {
			ps.Status.CreatedRemoteSecrets = append(ps.Status.CreatedRemoteSecrets, record)
		}
		return err
	})
	return adopted, err
}

// syncFinalizer holds the finalizer exactly while deletionPolicy is Delete:
// a PushSecret changed to None no longer waits for a cleanup it does not want.
func (r *Reconciler) syncFinalizer(ctx context.Context, ps *v1alpha1.PushSecret) error {
	var changed bool
	if ps.Spec.DeletionPolicy == "Delete" {
		changed = controllerutil.AddFinalizer(ps, finalizer)
	} else {
		changed = controllerutil.RemoveFinalizer(ps, finalizer)
	}
	if !changed {
		return nil
	}
	return r.Update(ctx, ps)
}

// finalize removes what was pushed when deletionPolicy is Delete at the time
// of deletion (the policy may have changed since the finalizer was added),
// then lets go.
func (r *Reconciler) finalize(ctx context.Context, ps *v1alpha1.PushSecret) error {
	if !controllerutil.ContainsFinalizer(ps, finalizer) {
		return nil
	}
	if ps.Spec.DeletionPolicy != "Delete" || v1alpha1.KeepsOnDelete(ps.Annotations, ps.Finalizers) {
		// Handed back by the ESO-compatible mode, or deleted with
		// --cascade=orphan: what was pushed stays, for whoever pushes it next.
		controllerutil.RemoveFinalizer(ps, finalizer)
		return r.Update(ctx, ps)
	}
	p, err := newPlan(ps, nil)
	if err != nil {
		return err
	}
	var notOwned []string
	err = r.eachStore(ctx, ps, p, func(sc providers.SecretsClient, record string, ref providers.PushRef, _ entry) error {
		err := sc.DeleteSecret(ctx, ref)
		if errors.Is(err, providers.ErrNotOwned) {
			notOwned = append(notOwned, record) // someone else's: left, and the others still go
			return nil
		}
		return err
	})
	if len(notOwned) > 0 {
		ctrl.LoggerFrom(ctx).Info("Left the remote secrets this PushSecret does not own", "remoteSecrets", notOwned)
	}
	if err != nil && !errors.Is(err, providers.ErrNotOwned) && !errors.Is(err, storeref.ErrOtherController) {
		r.Recorder.Eventf(ps, nil, corev1.EventTypeWarning, outcome.As(err, v1alpha1.ReasonProviderUnavailable).Reason, "Delete",
			"could not remove the pushed secrets yet: %v", err)
		return err // retried with back-off; the finalizer stays
	}
	controllerutil.RemoveFinalizer(ps, finalizer)
	return r.Update(ctx, ps)
}

// pushFn is one push (or deletion) of entry e to a store's client, with the
// entry's remote reference (Owned when this PushSecret created it) and its
// record for status.createdRemoteSecrets.
type pushFn func(sc providers.SecretsClient, record string, ref providers.PushRef, e entry) error

// eachStore resolves every store, checks that dataTo picks among them, and
// runs fn for each entry of p for each store.
func (r *Reconciler) eachStore(ctx context.Context, ps *v1alpha1.PushSecret, p *plan, fn pushFn) error {
	stores := make([]v1alpha1.GenericStore, 0, len(ps.Spec.SecretStoreRefs))
	for _, storeRef := range ps.Spec.SecretStoreRefs {
		store, err := storeref.Resolve(ctx, r.Client, r.APIReader, r.Scope, storeRef, ps.Namespace)
		if err != nil {
			return err
		}
		stores = append(stores, store)
	}
	if err := checkDataTo(ps, stores); err != nil {
		return err
	}
	for _, store := range stores {
		if err := r.inStore(ctx, ps, store, p, fn); err != nil {
			return err
		}
	}
	return nil
}

// inStore runs fn for every entry against one store, and closes the store's
// client on every path.
func (r *Reconciler) inStore(ctx context.Context, ps *v1alpha1.PushSecret, store v1alpha1.GenericStore, p *plan, fn pushFn) error {
	all, err := p.forStore(store)
	if err != nil {
		return err
	}
	prefix := fmt.Sprintf("%s/%s/", store.GetKind(), store.GetName())
	if p.deletion {
		all = append(all, createdOnly(ps, prefix, all)...)
	}
	sc, err := r.Provider.NewClient(ctx, store, &kubeaccess.Access{Reader: r.APIReader, Writer: r.Client, Namespaces: r.Client}, ps.Namespace)
	if err != nil {
		return outcome.FromProvider(fmt.Errorf("%s %q: %w", store.GetKind(), store.GetName(), err))
	}
	defer func() { _ = sc.Close(ctx) }()
	for _, e := range all {
		record := prefix + e.remote.RemoteKey
		ref := providers.PushRef{Key: e.remote.RemoteKey, Property: e.remote.Property}
		ref.Owned = slices.Contains(ps.Status.CreatedRemoteSecrets, record)
		ref.Owner, ref.OwnerUID = ps.Namespace+"/"+ps.Name, string(ps.UID)
		if err := fn(sc, record, ref, e); err != nil {
			return classify(fmt.Errorf("%s %q, %s (%q): %w", store.GetKind(), store.GetName(), e.origin, e.remote.RemoteKey, err))
		}
	}
	return nil
}

// createdOnly are the remote secrets of one store this PushSecret created
// that no entry names without the Secret: those of dataTo's per-key pushes,
// removed on deletion as the rest.
func createdOnly(ps *v1alpha1.PushSecret, prefix string, named []entry) []entry {
	var out []entry
	for _, record := range ps.Status.CreatedRemoteSecrets {
		key, ok := strings.CutPrefix(record, prefix)
		if !ok || slices.ContainsFunc(named, func(e entry) bool { return e.remote.RemoteKey == key }) {
			continue
		}
		out = append(out, entry{origin: "dataTo", remote: v1alpha1.PushSecretRemoteRef{RemoteKey: key}})
	}
	return out
}

// checkDataTo fails a dataTo entry whose storeRef names a store that is not
// in secretStoreRefs, or whose label selector picks none of them: it would
// push nothing, in silence.
func checkDataTo(ps *v1alpha1.PushSecret, stores []v1alpha1.GenericStore) error {
	for i, d := range ps.Spec.DataTo {
		picked := false
		for _, s := range stores {
			ok, err := picks(d.StoreRef, s)
			if err != nil {
				return outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "dataTo[%d].storeRef: %v", i, err)
			}
			picked = picked || ok
		}
		if picked {
			continue
		}
		if d.StoreRef.Name != "" {
			return outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "dataTo[%d].storeRef names %q, which is not in secretStoreRefs; add it there", i, d.StoreRef.Name)
		}
		return outcome.Terminalf(v1alpha1.ReasonInvalidSpec, "dataTo[%d].storeRef.labelSelector picks none of the stores in secretStoreRefs", i)
	}
	return nil
}

// classify gives a remote secret of someone else its own terminal Reason.
func classify(err error) error {
	if errors.Is(err, providers.ErrNotOwned) {
		return &outcome.Error{Reason: v1alpha1.ReasonRemoteNotOwned, Class: outcome.Terminal, Err: err}
	}
	return outcome.FromProvider(err)
}

// fail records Ready=False and returns the classified error, with the refresh
// interval as the delay of a waiting one without its own (outcome.Retrying
// logs it and decides the retry).
func (r *Reconciler) fail(ps *v1alpha1.PushSecret, err error) outcome.Result {
	oe := outcome.As(err, v1alpha1.ReasonProviderUnavailable)
	conditions.SetReady(r.Recorder, ps, &ps.Status.Conditions, ps.Generation, metav1.ConditionFalse, oe.Reason, "Push", oe.Err.Error())
	return outcome.Failed(oe, cmp.Or(refreshInterval(ps), time.Hour))
}

// refreshInterval is how often the Secret is pushed again: the spec's (1h when
// the API server did not default it), or 0 for never on a timer.
func refreshInterval(ps *v1alpha1.PushSecret) time.Duration {
	if ps.Spec.RefreshInterval == nil {
		return time.Hour
	}
	return max(ps.Spec.RefreshInterval.Duration, 0)
}
