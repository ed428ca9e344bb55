package vault

import (
	"context"
	"strings"
	"testing"

	"github.com/baosync/baosync/providers"
)

// TestForwardInconsistent_SendsTheHeaderExactlyWhenESODoes records the
// X-Vault-Inconsistent header of every request (login, mount lookup, read)
// through a proxy: ESO sends forward-active-node when readYourWrites and
// forwardInconsistent are both set, and nothing in every other case.
func TestForwardInconsistent_SendsTheHeaderExactlyWhenESODoes(t *testing.T) {
	mustSetUp(t, "secret/data/consistency", map[string]any{"data": map[string]any{"k": "v"}})
	root, err := server.Client()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                         string
		readYourWrites, forwardIncon bool
		want                         string
	}{
		{name: "neither", want: ""},
		{name: "forwardInconsistent alone", forwardIncon: true, want: ""},
		{name: "readYourWrites alone", readYourWrites: true, want: ""},
		{name: "both", readYourWrites: true, forwardIncon: true, want: "forward-active-node"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store, kube := appRoleStore(t, root, "consistency"+string(rune('a'+i)))
			rec := newRecorder(t)
			v := store.Spec.Provider.Vault
			v.Server, v.ReadYourWrites, v.ForwardInconsistent = rec.URL, tc.readYourWrites, tc.forwardIncon
			c, err := New().NewClient(context.Background(), store, kube, "ns")
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close(context.Background()) }()
			got, err := c.GetSecret(context.Background(), providers.RemoteRef{Key: "consistency", Property: "k"})
			switch {
			case tc.want != "":
				// The dev server has no replication stanza that allows
				// forwarding by header, so it refuses the login: proof that
				// the header reached it (ESO's users see the same answer).
				if err == nil || !strings.Contains(err.Error(), "forward-active-node") {
					t.Fatalf("read = %q, %v; want the server's refusal of the forwarding header", got, err)
				}
			case err != nil || string(got) != "v":
				t.Fatalf("read = %q, %v", got, err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.paths) == 0 {
				t.Fatal("no request recorded")
			}
			for j, h := range rec.inconsistent {
				if h != tc.want {
					t.Fatalf("request %s sent X-Vault-Inconsistent %q; want %q", rec.paths[j], h, tc.want)
				}
			}
		})
	}
}
