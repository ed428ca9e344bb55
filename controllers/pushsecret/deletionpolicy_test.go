package pushsecret

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

// TestPushSecret_DeletionFollowsThePolicyAtDeletionTime changes deletionPolicy
// from Delete to None: the finalizer goes, and deleting the PushSecret leaves
// the remote secret alone, whether the deletion comes after the finalizer left
// or races with it.
func TestPushSecret_DeletionFollowsThePolicyAtDeletionTime(t *testing.T) {
	cases := []struct {
		name          string
		waitFinalizer bool // wait until the finalizer is gone before deleting
	}{
		{"a finalizer no longer needed is removed, and deletion leaves the remote", true},
		{"a deletion right after the change leaves the remote", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // own namespace, source Secret and remote key
			g := NewWithT(t)
			ctx := context.Background()
			ns, key := setup(t, "kept-after-delete")
			ps := newPush(ns, key, "Replace", "Delete")
			g.Expect(env.Client.Create(ctx, ps)).To(Succeed())
			waitReason(t, ns, v1alpha1.ReasonPushed)
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
			g.Expect(ps.Finalizers).To(ContainElement(finalizer))

			g.Eventually(func() error {
				if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps); err != nil {
					return err
				}
				ps.Spec.DeletionPolicy = "None"
				return env.Client.Update(ctx, ps)
			}, wait, 100*time.Millisecond).Should(Succeed())
			if tc.waitFinalizer {
				g.Eventually(func() []string {
					g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), ps)).To(Succeed())
					return ps.Finalizers
				}, wait, 100*time.Millisecond).ShouldNot(ContainElement(finalizer))
			}
			g.Expect(env.Client.Delete(ctx, ps)).To(Succeed())
			g.Eventually(func() bool {
				return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(ps), &v1alpha1.PushSecret{}))
			}, wait, 100*time.Millisecond).Should(BeTrue(), "the PushSecret is gone")
			d, _ := remote(t, key)
			g.Expect(d).To(HaveKeyWithValue("pw", "kept-after-delete"), "deletionPolicy None leaves the remote secret")
		})
	}
}
