#!/usr/bin/env bash
# prepare.sh DIR: makes DIR (a scratch copy of this module) buildable.
#
# Vault v1.21.4 was released against an in-tree sdk that was never published. The
# nearest published sdk, v0.21.0, differs from it in exactly two signatures:
#   - framework.Backend.ActivationFunc takes (ctx, req) in v1.21.4, not (ctx, req, string);
#   - keysutil.(*LockManager).RestorePolicy returns (string, error), not error
#     (the restored key's name; sdk v0.24.0 made the same change upstream).
# This script fetches sdk v0.21.0 with the go command into DIR/sdk and adapts those two
# signatures there. Nothing third-party is committed to the baosync repository.
set -euo pipefail
dir=$1
sdkver=v0.21.0
go mod download "github.com/hashicorp/vault/sdk@$sdkver"
src=$(go env GOMODCACHE)/github.com/hashicorp/vault/sdk@$sdkver
rm -rf "$dir/sdk"
cp -r "$src" "$dir/sdk"
chmod -R u+w "$dir/sdk"

backend=$dir/sdk/framework/backend.go
perl -0pi -e 's/ActivationFunc func\(context\.Context, \*logical\.Request, string\) error/ActivationFunc func(context.Context, *logical.Request) error/ or die "ActivationFunc signature not found\n"' "$backend"

lockmgr=$dir/sdk/helper/keysutil/lock_manager.go
perl -pi -e '
  if (/^func \(lm \*LockManager\) RestorePolicy\(/) { $in = 1; s/force bool\) error \{/force bool) (string, error) {/ or die "RestorePolicy signature not found\n"; $seen = 1 }
  elsif ($in && /^\}/) { $in = 0 }
  elsif ($in) { s/\breturn nil$/return name, nil/ or s/\breturn (?!"")/return "", / }
  END { die "RestorePolicy not found\n" unless $seen }
' "$lockmgr"
gofmt -l "$backend" "$lockmgr" | { if read -r f; then echo "prepare.sh: $f is not gofmt-clean after the edit" >&2; exit 1; fi; }
