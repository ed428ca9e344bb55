package desired

import (
	"context"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/generator"
	"github.com/baosync/baosync/internal/generatorstate"
	"github.com/baosync/baosync/providers"
)

// unitNow is the fake clock's time in the tables.
var unitNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// unitBuilder returns a Builder over an in-memory API holding objs, with a
// fake clock at unitNow and stateKeeper as its Keeper.
func unitBuilder(t *testing.T, provider providers.Provider, objs ...client.Object) *Builder {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	return &Builder{Cache: c, Live: c, Provider: provider, Clock: clocktesting.NewFakeClock(unitNow),
		Keeper: &stateKeeper{c: c}}
}

// stateKeeper keeps generator state in the in-memory API and issues no
// dynamic secret: the operator's lease ledger has tables of its own.
type stateKeeper struct{ c client.Client }

func (k *stateKeeper) Load(ctx context.Context, es *v1alpha1.ExternalSecret) (*generatorstate.State, error) {
	return generatorstate.Load(ctx, k.c, es, v1alpha1.GroupVersion.WithKind("ExternalSecret"), nil)
}

func (k *stateKeeper) Current(context.Context, *v1alpha1.ExternalSecret, *generator.Resolved, generatorstate.Entry, bool) (generatorstate.Entry, error) {
	return generatorstate.Entry{}, errors.New("stateKeeper issues no dynamic secret")
}

func (k *stateKeeper) Release(context.Context, *v1alpha1.ExternalSecret, map[string]generatorstate.Entry) error {
	return nil
}

func (k *stateKeeper) Save(ctx context.Context, st *generatorstate.State) error {
	return st.Save(ctx, k.c)
}

// esOpt changes an ExternalSecret built by newES.
type esOpt func(*v1alpha1.ExternalSecret)

// newES builds an ExternalSecret on store with a one-minute refresh.
func newES(ns, name, store string, opts ...esOpt) *v1alpha1.ExternalSecret {
	es := &v1alpha1.ExternalSecret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("uid-" + name), Generation: 1},
		Spec: v1alpha1.ExternalSecretSpec{
			SecretStoreRef:  v1alpha1.SecretStoreRef{Name: store, Kind: v1alpha1.SecretStoreKindNamespaced},
			RefreshInterval: &metav1.Duration{Duration: time.Minute},
			Target:          v1alpha1.ExternalSecretTarget{CreationPolicy: v1alpha1.CreationPolicyOwner, DeletionPolicy: v1alpha1.DeletionPolicyRetain},
		},
	}
	for _, o := range opts {
		o(es)
	}
	return es
}

// withData adds a data entry.
func withData(secretKey, key, property string) esOpt {
	return func(es *v1alpha1.ExternalSecret) {
		es.Spec.Data = append(es.Spec.Data, v1alpha1.ExternalSecretData{SecretKey: secretKey,
			RemoteRef: v1alpha1.ExternalSecretDataRemoteRef{Key: key, Property: property}})
	}
}

// withGenerator adds a dataFrom entry of a generator.
func withGenerator(kind, name string) esOpt {
	return func(es *v1alpha1.ExternalSecret) {
		es.Spec.DataFrom = append(es.Spec.DataFrom, v1alpha1.ExternalSecretDataFromRemoteRef{
			SourceRef: &v1alpha1.StoreGeneratorSourceRef{GeneratorRef: &v1alpha1.GeneratorRef{Kind: kind, Name: name}}})
	}
}

// resolvedStore is the SecretStore es names, as Store would return it.
func resolvedStore(es *v1alpha1.ExternalSecret) *v1alpha1.SecretStore {
	return &v1alpha1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: es.Spec.SecretStoreRef.Name, Namespace: es.Namespace}}
}
