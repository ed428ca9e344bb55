#!/usr/bin/env bash
# dry-run.sh VERSION does, after `make image VERSION=…`, every remaining step of a
# release short of pushing: it packages the chart with that version into bin/release/,
# takes the release notes from CHANGELOG.md, and prints what the release workflow
# would push and sign. `make release-dry-run VERSION=v0.1.0` runs both.
#
# IMAGE_REPO and CHART_REPO name the destinations (defaults: ghcr.io/baosync/baosync
# and oci://ghcr.io/baosync/charts).
set -euo pipefail

version=${1:?usage: dry-run.sh vMAJOR.MINOR.PATCH}
root=$(cd "$(dirname "$0")/../.." && pwd)
image_repo=${IMAGE_REPO:-ghcr.io/baosync/baosync}
chart_repo=${CHART_REPO:-oci://ghcr.io/baosync/charts}
out=$root/bin/release
chart_version=${version#v} # Helm wants SemVer without the v

# The image must be the one `make image` just built for this version.
layout=$root/bin/image/oci
sbom=$root/bin/image/baosync-$version.cdx.json
if [ ! -f "$root/bin/image/digest" ] || ! grep -Eq "\"org.opencontainers.image.ref.name\": *\"$version\"" "$layout/index.json"; then
  echo "dry-run: bin/image holds no image for $version: run 'make image VERSION=$version' first" >&2
  exit 1
fi
[ -f "$sbom" ] || { echo "dry-run: no SBOM at ${sbom#"$root"/}" >&2; exit 1; }
digest=$(cat "$root/bin/image/digest")

rm -rf "$out"; mkdir -p "$out"
"$root/bin/helm" package "$root/charts/baosync" --version "$chart_version" --app-version "$version" \
  --destination "$out" >/dev/null
chart=$out/baosync-$chart_version.tgz
"$root/bin/helm" lint "$chart" >/dev/null

# Release notes: the CHANGELOG section of this version, else [Unreleased] (the
# section a release is cut from, before it is renamed).
notes=$out/notes.md
section=""
if [ ! -f "$root/CHANGELOG.md" ]; then
  echo "dry-run: no CHANGELOG.md: the release would have no notes" >&2
  : >"$notes"
else
  for s in "$chart_version" "$version" Unreleased; do
    # The section's lines, less Keep a Changelog's link definitions at the end.
    awk -v h="## [$s]" 'index($0, "## [") == 1 { if (p) exit; p = (index($0, h) == 1); next } p && !/^\[[^]]*\]: /' \
      "$root/CHANGELOG.md" >"$notes"
    if [ -s "$notes" ]; then section=$s; break; fi
  done
  if [ -z "$section" ]; then
    echo "dry-run: CHANGELOG.md has no '## [$chart_version]' nor '## [Unreleased]' section: the release would have no notes" >&2
  elif [ "$section" = Unreleased ]; then
    echo "dry-run: CHANGELOG.md has no '## [$chart_version]' section yet; the notes come from [Unreleased] (rename it when tagging)" >&2
  fi
fi

rel() { echo "${1#"$root"/}"; }
cat <<EOF

Release $version, dry run: nothing was pushed or signed.

Built
  image    $(rel "$layout")  index $digest (linux/amd64, linux/arm64)
  tarball  $(rel "$root/bin/image/baosync-$version.tar")
  sbom     $(rel "$sbom") (CycloneDX; in the layout as an artifact whose subject is the index)
  chart    $(rel "$chart") (version $chart_version, appVersion $version)
  notes    $(rel "$notes") ($(wc -l <"$notes") lines from CHANGELOG.md${section:+ [$section]})

Would push
  oras cp -r --from-oci-layout $(rel "$layout"):$version $image_repo:$version
      -> $image_repo@$digest, with the SBOM as its referrer
  helm push $(rel "$chart") $chart_repo
      -> ${chart_repo#oci://}/baosync:$chart_version

Would sign (keyless: the workflow's OIDC identity, recorded in Rekor)
  cosign sign --yes $image_repo@$digest
  cosign attest --yes --type cyclonedx --predicate $(rel "$sbom") $image_repo@$digest
  cosign sign --yes ${chart_repo#oci://}/baosync@<the digest helm push prints>

Would draft
  a GitHub release $version with $(rel "$notes"), $(rel "$chart") and $(rel "$sbom") attached
EOF
