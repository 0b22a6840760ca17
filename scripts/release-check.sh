#!/usr/bin/env bash
# `make release-check`: proves that .goreleaser.yml still produces a release the Terraform Registry accepts, without
# publishing or signing anything and without a tag.
#
#   1. installs goreleaser $GORELEASER_VERSION into the tools' bin (go install through the Go module proxy; it is a
#      big module: about 4 minutes the first time, nothing afterwards);
#   2. `goreleaser check` on .goreleaser.yml;
#   3. `goreleaser release --snapshot --clean --skip=publish,sign` for this machine's platform only (the same
#      configuration with its builds narrowed to one target), or for every platform with RELEASE_CHECK_ALL=1
#      (about 10 minutes of cross-compiling the first time);
#   4. checks what landed in dist/: one zip per platform named terraform-provider-awsdynamic_<version>_<os>_<arch>.zip
#      holding terraform-provider-awsdynamic_v<version>, a <version>_SHA256SUMS that covers every zip and the
#      registry manifest and matches them, and the version stamped into the binary; then lists them.
#
# dist/ is left for inspection (it is git-ignored; the next run replaces it). Not part of CI: it is slow, and
# nothing in it changes unless .goreleaser.yml, main.go or the Go version does.
set -euo pipefail

GORELEASER_VERSION=v2.15.1

start=$EPOCHREALTIME
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { printf 'release-check: %s\n' "$*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }
elapsed() { awk -v from="$1" -v to="$EPOCHREALTIME" 'BEGIN { printf "%.0fs", to - from }'; }

if [[ -z ${AWSDYNAMIC_TOOLS_BIN:-} ]]; then
  tools_dir=${AWSDYNAMIC_TOOLS_DIR:-$HOME/.cache/terraform-provider-awsdynamic/tools}
  [[ -f $tools_dir/env.sh ]] || bash scripts/tools.sh cli
  # shellcheck source=/dev/null
  . "$tools_dir/env.sh"
fi
GR=$AWSDYNAMIC_TOOLS_BIN/goreleaser

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

# ---- 1. goreleaser ------------------------------------------------------------------------------------------------
installed=$( [[ -x $GR ]] && go version -m "$GR" 2>/dev/null | awk '$1 == "mod" { print $3; exit }' || true)
if [[ $installed != "$GORELEASER_VERSION" ]]; then
  say "installing goreleaser $GORELEASER_VERSION into $AWSDYNAMIC_TOOLS_BIN (a large module: minutes the first time)"
  t0=$EPOCHREALTIME
  # Outside the repository, so that the install never touches its go.mod.
  (cd "$AWSDYNAMIC_TOOLS_BIN" && GOWORK=off GOFLAGS= GOBIN=$AWSDYNAMIC_TOOLS_BIN \
    go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION") ||
    die "installing goreleaser $GORELEASER_VERSION failed (it comes from the Go module proxy: check GOPROXY and the network)"
  say "goreleaser installed in $(elapsed "$t0")"
fi

# ---- 2. check -------------------------------------------------------------------------------------------------------
say "goreleaser check"
"$GR" check --config .goreleaser.yml

# ---- 3. snapshot release ------------------------------------------------------------------------------------------
goos=$(go env GOOS)
goarch=$(go env GOARCH)
config=.goreleaser.yml
work=$(mktemp -d "${TMPDIR:-/tmp}/awsdynamic-release-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [[ ${RELEASE_CHECK_ALL:-} == 1 ]]; then
  say "snapshot release for every platform in .goreleaser.yml"
else
  # The same configuration, with the build's goos/goarch/ignore lists replaced by this one target.
  config=$work/goreleaser-host.yml
  awk -v target="${goos}_${goarch}" '
    /^    goos:$/ { skipping = 1; print "    targets: [\"" target "\"]"; next }
    skipping && /^    binary:/ { skipping = 0 }
    !skipping { print }
  ' .goreleaser.yml >"$config"
  grep -q "targets: \[\"${goos}_${goarch}\"\]" "$config" && ! grep -q '^    goos:' "$config" ||
    die ".goreleaser.yml no longer has the builds layout this script narrows to one target (goos: ... binary:); update the awk in $0"
  "$GR" check --config "$config" >/dev/null 2>&1 || "$GR" check --config "$config"
  say "snapshot release for ${goos}_${goarch} (RELEASE_CHECK_ALL=1 for every platform)"
fi
t0=$EPOCHREALTIME
if ! "$GR" release --snapshot --clean --skip=publish,sign --config "$config" >"$work/goreleaser.log" 2>&1; then
  cat "$work/goreleaser.log" >&2
  die "goreleaser release --snapshot failed"
fi
say "snapshot built in $(elapsed "$t0")"

# ---- 4. what the Registry needs ---------------------------------------------------------------------------------
name=terraform-provider-awsdynamic
version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
[[ -n $version ]] || die "dist/metadata.json has no version"
sums=dist/${name}_${version}_SHA256SUMS
[[ -f $sums ]] || die "no $sums"

shopt -s nullglob
zips=(dist/"${name}_${version}"_*.zip)
((${#zips[@]} > 0)) || die "no dist/${name}_${version}_<os>_<arch>.zip"
host_zip=dist/${name}_${version}_${goos}_${goarch}.zip
[[ -f $host_zip ]] || die "no $host_zip"

for zip in "${zips[@]}"; do
  base=$(basename "$zip")
  [[ $base =~ ^${name}_${version//./\\.}_[a-z0-9]+_[a-z0-9]+\.zip$ ]] || die "$base is not named ${name}_<version>_<os>_<arch>.zip"
  grep -q "  $base\$" "$sums" || die "$base is not in $(basename "$sums")"
  unzip -Z1 "$zip" | grep -Eqx "${name}_v${version//./\\.}(\.exe)?" || die "$base does not hold ${name}_v${version}"
done
manifest=${name}_${version}_manifest.json
want=$(sha256 terraform-registry-manifest.json | awk '{ print $1 }')
grep -q "^$want  $manifest\$" "$sums" || die "$(basename "$sums") does not list terraform-registry-manifest.json as $manifest"
(cd dist && sha256 -c --ignore-missing "$(basename "$sums")" >/dev/null) || die "$(basename "$sums") does not match the zips"

unzip -q -o "$host_zip" -d "$work/unzipped"
bin=$(find "$work/unzipped" -name "${name}_v*" -type f | head -n 1)
# -X main.version=<version> put the string into the binary (with -trimpath, build info does not record ldflags).
LC_ALL=C grep -aqF -- "$version" "$bin" || die "the binary in $(basename "$host_zip") does not carry version $version (ldflags -X main.version)"

say "release artifacts (dist/):"
for zip in "${zips[@]}"; do
  printf '    %s  (%s)\n' "$(basename "$zip")" "$(unzip -Z1 "$zip" | tr '\n' ' ' | sed 's/ $//')"
done
printf '    %s:\n' "$(basename "$sums")"
sed 's/^/        /' "$sums"
printf '    (%s is uploaded from terraform-registry-manifest.json; the .sig is made when GPG_FINGERPRINT is set)\n' "$manifest"
say "release-check passed in $(elapsed "$start")"
