package gettingstarted

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/baosync/baosync/test/testenv"
)

var (
	env *testenv.Env
	// operatorLog is the log file of the operator process every test shares.
	operatorLog string
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, func(ctx context.Context, e *testenv.Env) (func(), error) {
		env = e
		dir, err := os.MkdirTemp("", "baosync-gettingstarted-")
		if err != nil {
			return nil, fmt.Errorf("create build dir: %w", err)
		}
		bin, err := testenv.BuildOperator(ctx, dir)
		if err != nil {
			return nil, err
		}
		op, err := e.StartOperator(ctx, bin, "operator")
		if err != nil {
			return nil, err
		}
		operatorLog = op.LogPath
		return func() { op.Stop(); _ = os.RemoveAll(dir) }, nil
	}))
}
