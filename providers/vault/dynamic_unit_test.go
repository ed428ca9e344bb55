package vault

import (
	"errors"
	"strings"
	"testing"

	"github.com/baosync/baosync/providers"
)

func TestDynamicPath_RefusesTheServersConfigurationAndAuthUnlessAuthResult(t *testing.T) {
	tests := []struct {
		name, path, result string
		ok                 bool
	}{
		{"a database role", "database/creds/app", "Data", true},
		{"a PKI issue with slashes around", "/pki/issue/web/", "", true},
		{"a token for resultType Auth", "auth/token/create", "Auth", true},
		{"sys is never a generator's", "sys/policies/acl/root", "Data", false},
		{"sys even for Raw", "sys/leases/lookup", "Raw", false},
		{"auth config without resultType Auth", "auth/kubernetes/config", "Data", false},
		{"dot segments", "database/../sys/mounts", "Data", false},
		{"an empty segment", "database//creds", "Data", false},
		{"empty", "", "Data", false},
		{"sys behind a namespace prefix", "team-a/sys/policies/acl/root", "Data", false},
		{"auth config behind a namespace prefix", "team-a/auth/kubernetes/config", "Data", false},
		{"a token in a namespace for resultType Auth", "team-a/auth/token/create", "Auth", true},
		{"a namespaced database role", "team-a/database/creds/app", "Data", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dynamicPath(tt.path, tt.result)
			if (err == nil) != tt.ok {
				t.Fatalf("dynamicPath(%q, %q) = %v, want ok=%v", tt.path, tt.result, err, tt.ok)
			}
			if err != nil && !errors.Is(err, providers.ErrInvalidRef) {
				t.Fatalf("error %v is not ErrInvalidRef", err)
			}
		})
	}
}

func TestCheckLeaseID_OnlyTheGeneratorsOwnLeasesAsPlainPaths(t *testing.T) {
	tests := []struct {
		name, path, id string
		ok             bool
	}{
		{"its own lease", "database/creds/app", "database/creds/app/AbC", true},
		{"another role's lease", "database/creds/app", "database/creds/app2/AbC", false},
		{"another engine's lease", "database/creds/app", "pki/issue/web/AbC", false},
		{"no lease", "database/creds/app", "", false},
		{"a namespaced lease", "database/creds/app", "database/creds/app/AbC.nsX1", true},
		{"climbing out in the URL", "database/creds/app", "database/creds/app/../../../sys/leases/revoke-prefix/database", false},
		{"an empty segment", "database/creds/app", "database/creds/app//x", false},
		{"a query in the URL", "database/creds/app", "database/creds/app/x?prefix=true", false},
		{"an encoded separator", "database/creds/app", "database/creds/app/x%2F..", false},
		{"a giant ID", "database/creds/app", "database/creds/app/" + strings.Repeat("a", maxLeaseID), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkLeaseID(tt.path, tt.id); (err == nil) != tt.ok {
				t.Fatalf("checkLeaseID(%q, %q) = %v, want ok=%v", tt.path, tt.id, err, tt.ok)
			}
		})
	}
}
