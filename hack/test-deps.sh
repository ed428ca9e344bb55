#!/usr/bin/env bash
# Installs the two system packages the test suites run for real, when they are
# missing: Debian's postgresql (the lease suites' database,
# test/testenv/postgres.go) and slapd with ldap-utils (the ldap auth tests,
# test/testenv/ldap.go). Without apt-get, or without root or sudo, it says what
# to install and goes on: the ldap tests then skip, the lease suites fail with
# the same instruction.
set -uo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
{ [ -x /usr/sbin/slapd ] && command -v ldapadd >/dev/null; } || need+=(slapd ldap-utils)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=sudo; else sudo=none; fi
fi
if ! command -v apt-get >/dev/null || [ "$sudo" = none ]; then
  echo "==> test dependencies missing: ${need[*]}; install them (Debian/Ubuntu: apt-get install -y --no-install-recommends ${need[*]})." >&2
  echo "    Without them the ldap tests skip and the lease suites fail." >&2
  exit 0
fi
echo "==> installing test dependencies: ${need[*]} (apt-get)"
$sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
