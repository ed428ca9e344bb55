package esocompat

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/baosync/baosync/api/v1alpha1"
)

func TestStatus_MirrorConditionsBecomeESOsReasons(t *testing.T) {
	ready := func(status metav1.ConditionStatus, reason, msg string) []metav1.Condition {
		return []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: status, Reason: reason, Message: msg}}
	}
	es := func(c []metav1.Condition) client.Object {
		return &v1alpha1.ExternalSecret{Status: v1alpha1.ExternalSecretStatus{Conditions: c}}
	}
	cases := []struct {
		name    string
		mapper  func(client.Object) *esoStatus
		mirror  client.Object
		nilWant bool
		ready   metav1.ConditionStatus
		reason  string
		message string
	}{
		{"synced", externalSecretStatus, es(ready("True", v1alpha1.ReasonSecretSynced, "")), false, "True", "SecretSynced", "secret synced"},
		{"a failure keeps baosync's reason and message", externalSecretStatus, es(ready("False", v1alpha1.ReasonRemoteNotFound, "no secret at app")),
			false, "False", "SecretSyncedError", "RemoteNotFound: no secret at app"},
		{"a Merge target missing is Ready, as ESO says", externalSecretStatus, es(ready("False", v1alpha1.ReasonTargetMissing, "x")),
			false, "True", "SecretMissing", "secret will not be created due to CreationPolicy=Merge"},
		{"deleted with the remote secret", externalSecretStatus, es(ready("True", v1alpha1.ReasonSecretDeleted, "")), false, "True", "SecretDeleted",
			"secret deleted due to DeletionPolicy=Delete"},
		{"no verdict yet: nothing", externalSecretStatus, es(ready("Unknown", "Progressing", "")), true, "", "", ""},
		{"a valid store", storeStatus, &v1alpha1.SecretStore{Status: v1alpha1.SecretStoreStatus{Conditions: ready("True", v1alpha1.ReasonStoreValid, "")}},
			false, "True", "Valid", "store validated"},
		{"an invalid store", storeStatus, &v1alpha1.ClusterSecretStore{Status: v1alpha1.SecretStoreStatus{Conditions: ready("False", v1alpha1.ReasonAuthFailed, "login refused")}},
			false, "False", "InvalidProviderConfig", "AuthFailed: login refused"},
		{"a pushed PushSecret", pushSecretStatus, &v1alpha1.PushSecret{Status: v1alpha1.PushSecretStatus{Conditions: ready("True", v1alpha1.ReasonPushed, "")}},
			false, "True", "Synced", "PushSecret synced successfully"},
		{"a ClusterExternalSecret has no reason", clusterExternalSecretStatus,
			&v1alpha1.ClusterExternalSecret{Status: v1alpha1.ClusterExternalSecretStatus{Conditions: ready("True", v1alpha1.ReasonNamespacesProvisioned, "")}},
			false, "True", "", ""},
		{"another kind than expected: nothing", storeStatus, es(ready("True", v1alpha1.ReasonSecretSynced, "")), true, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.mapper(tc.mirror)
			if tc.nilWant {
				if s != nil {
					t.Fatalf("status = %+v, want none", s)
				}
				return
			}
			if s == nil || s.ready != tc.ready || s.reason != tc.reason || s.message != tc.message {
				t.Fatalf("status = %+v, want %s %s %q", s, tc.ready, tc.reason, tc.message)
			}
			if got, reason := readyIn(s.object()); got != string(tc.ready) || reason != tc.reason {
				t.Errorf("object() Ready = %s %s", got, reason)
			}
		})
	}
}
