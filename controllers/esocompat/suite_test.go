package esocompat

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/baosync/baosync/test/testenv"
)

// The suite's shared state: one control plane with ESO's CRDs, one Vault, and
// one operator process run with --eso-compat under the generated RBAC plus
// config/components/eso-compat, whose logs go to the leak check.
var (
	env      *testenv.Env
	operator *testenv.OperatorProcess
	bin      string // the operator binary, for tests that start another
	leak     = testenv.NewLeakCheck()
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, func(ctx context.Context, e *testenv.Env) (func(), error) {
		env = e
		if err := e.InstallESOCRDs(ctx); err != nil {
			return nil, err
		}
		if err := e.GrantESOCompat(ctx); err != nil {
			return nil, err
		}
		var err error
		if bin, err = testenv.BuildOperator(ctx, e.Dir); err != nil {
			return nil, err
		}
		operator, err = e.StartOperator(ctx, bin, "operator", "--eso-compat")
		if err != nil {
			return nil, err
		}
		e.AfterTests(scanForLeaks)
		return operator.Stop, nil
	}))
}

// scanForLeaks looks for every value registered with leak.Secret in the
// operator's log, events, baosync's statuses and ESO's statuses.
func scanForLeaks(ctx context.Context) error {
	log, err := os.ReadFile(operator.LogPath)
	if err != nil {
		return err
	}
	_, _ = leak.Write(log)
	if _, err := leak.Scan(ctx, env.Client, nil); err != nil {
		return err
	}
	for _, k := range kinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(k.gvk.GroupVersion().WithKind(k.gvk.Kind + "List"))
		if err := env.Client.List(ctx, list); err != nil {
			return err
		}
		for _, o := range list.Items {
			b, _ := json.Marshal(o.Object["status"])
			if found := leak.Find(b); len(found) > 0 {
				return fmt.Errorf("the status of ESO's %s %s/%s holds a secret value", k.gvk.Kind, o.GetNamespace(), o.GetName())
			}
		}
	}
	return nil
}
