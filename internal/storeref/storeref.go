// Package storeref resolves the store an object references and enforces who may
// use it: a SecretStore only from its own namespace, a ClusterSecretStore only
// from namespaces its conditions allow.
package storeref

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/internal/scope"
)

// retryNotReady is how long an object waits for a store that is not ready.
const retryNotReady = 30 * time.Second

// ErrOtherController means the store names another controller class, or the
// object lies outside the namespace this operator serves: this operator leaves
// the store, and the objects that use it, alone.
var ErrOtherController = errors.New("the store belongs to another controller class")

// Resolve returns the store named by ref for an object in namespace, or an
// outcome error: StoreNotFound, StoreNotAllowed or StoreNotReady. Messages
// leave out the store's kind and name, which callers put in front. A store
// missing from the cache c is looked up with the uncached live reader before
// it is reported missing, since a store applied together with its
// ExternalSecrets may not have reached the cache yet.
func Resolve(ctx context.Context, c, live client.Reader, scope scope.Served, ref v1alpha1.SecretStoreRef, namespace string) (v1alpha1.GenericStore, error) {
	if !scope.ServesNamespace(namespace) {
		return nil, ErrOtherController
	}
	if !scope.ClusterWide() && ref.Kind == v1alpha1.SecretStoreKindCluster {
		return nil, outcome.Terminalf(v1alpha1.ReasonStoreNotAllowed,
			"this operator serves namespace %q only and no ClusterSecretStore; use a SecretStore", scope.Namespace)
	}
	var store v1alpha1.GenericStore
	key := client.ObjectKey{Name: ref.Name}
	if ref.Kind == v1alpha1.SecretStoreKindCluster {
		store = &v1alpha1.ClusterSecretStore{}
	} else {
		store = &v1alpha1.SecretStore{}
		key.Namespace = namespace
	}
	err := c.Get(ctx, key, store)
	if apierrors.IsNotFound(err) && live != nil {
		err = live.Get(ctx, key, store)
	}
	if apierrors.IsNotFound(err) {
		return nil, outcome.Waitingf(v1alpha1.ReasonStoreNotFound, retryNotReady,
			"not found in %s; create the %s or fix spec.secretStoreRef", where(ref, namespace), KindOf(ref))
	}
	if err != nil {
		return nil, outcome.Transientf(v1alpha1.ReasonStoreNotFound, "get the store: %w", err)
	}
	if !scope.Serves(store) {
		return nil, ErrOtherController
	}
	if store.GetKind() == v1alpha1.SecretStoreKindCluster {
		if err := Allows(ctx, c, store.GetSpec().Conditions, namespace); err != nil {
			return nil, err
		}
	}
	if ready := meta.FindStatusCondition(store.GetStatus().Conditions, v1alpha1.ConditionReady); ready != nil && ready.Status == metav1.ConditionFalse {
		return nil, outcome.Waitingf(v1alpha1.ReasonStoreNotReady, retryNotReady,
			"the store is not ready (%s): %s", ready.Reason, ready.Message)
	}
	return store, nil
}

// Allows checks the conditions of a ClusterSecretStore (or ClusterGenerator)
// against the namespace: StoreNotAllowed when none matches.
func Allows(ctx context.Context, c client.Reader, conds []v1alpha1.ClusterSecretStoreCondition, namespace string) error {
	if len(conds) == 0 {
		return nil
	}
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		return outcome.Transientf(v1alpha1.ReasonStoreNotAllowed, "get namespace %q to check the store's conditions: %w", namespace, err)
	}
	for i, cond := range conds {
		ok, err := matches(cond, ns)
		if err != nil {
			return outcome.Terminalf(v1alpha1.ReasonInvalidStoreConfig, "spec.conditions[%d]: %v", i, err)
		}
		if ok {
			return nil
		}
	}
	return outcome.Terminalf(v1alpha1.ReasonStoreNotAllowed,
		"does not allow namespace %q: no entry of its spec.conditions matches; add the namespace to a condition or use another one", namespace)
}

// matches reports whether a namespace satisfies one ClusterSecretStore condition:
// every field that is set must match.
func matches(cond v1alpha1.ClusterSecretStoreCondition, ns *corev1.Namespace) (bool, error) {
	if cond.NamespaceSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(cond.NamespaceSelector)
		if err != nil {
			return false, fmt.Errorf("invalid namespaceSelector: %w", err)
		}
		if !sel.Matches(labels.Set(ns.Labels)) {
			return false, nil
		}
	}
	if len(cond.Namespaces) > 0 && !slices.Contains(cond.Namespaces, ns.Name) {
		return false, nil
	}
	if len(cond.NamespaceRegexes) > 0 {
		hit := false
		for _, expr := range cond.NamespaceRegexes {
			re, err := regexp.Compile(expr)
			if err != nil {
				return false, fmt.Errorf("invalid namespaceRegexes entry %q: %w", expr, err)
			}
			hit = hit || re.MatchString(ns.Name)
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}

// KindOf is the kind a reference names: SecretStore unless it says otherwise.
func KindOf(ref v1alpha1.SecretStoreRef) v1alpha1.SecretStoreKind {
	if ref.Kind == "" {
		return v1alpha1.SecretStoreKindNamespaced
	}
	return ref.Kind
}

// Key names the store a reference names as "Kind/name", the kind filled in.
func Key(ref v1alpha1.SecretStoreRef) string {
	return string(KindOf(ref)) + "/" + ref.Name
}

// Describe names the store a reference names, for messages, e.g.
// `ClusterSecretStore "vault"`.
func Describe(ref v1alpha1.SecretStoreRef) string {
	return fmt.Sprintf("%s %q", KindOf(ref), ref.Name)
}

func where(ref v1alpha1.SecretStoreRef, namespace string) string {
	if ref.Kind == v1alpha1.SecretStoreKindCluster {
		return "the cluster"
	}
	return "namespace " + namespace
}
