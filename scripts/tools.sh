#!/usr/bin/env bash
# Installs (or verifies) every tool the build, tests and docs need, then
# writes "$TOOLS/env.sh" for the Makefile and scripts to source.
#
# Tools live OUTSIDE the repository, in
#   ${AWSDYNAMIC_TOOLS_DIR:-$HOME/.cache/terraform-provider-awsdynamic/tools}
# so that every clone on the same machine (work trees, CI's fresh clone)
# reuses them. Delete that directory to start over.
#
# Idempotent: when everything is already present at the pinned versions the
# script only checks versions and finishes in about a second.
#
# Installed:
#   $TOOLS/venv            Python venv with moto (server mode) for the tests
#   $TOOLS/bin/golangci-lint, $TOOLS/bin/tfplugindocs   (go install)
#   $TOOLS/bin/tofu        OpenTofu, built from source via the Go module proxy
#   $TOOLS/terraformrc     empty Terraform/OpenTofu CLI config file
#   $TOOLS/env.sh          exports AWSDYNAMIC_* variables (see the end)
set -euo pipefail

start=$EPOCHREALTIME

# ---- pinned versions -------------------------------------------------------
MOTO_VERSION=5.2.5
FLASK_VERSION=3.1.3
FLASK_CORS_VERSION=6.0.5
GOLANGCI_LINT_VERSION=v2.15.0
TFPLUGINDOCS_VERSION=v0.25.0
TOFU_VERSION=v1.12.6
TERRAFORM_MIN_VERSION=1.10.0

TOOLS=${AWSDYNAMIC_TOOLS_DIR:-$HOME/.cache/terraform-provider-awsdynamic/tools}
BIN=$TOOLS/bin
VENV=$TOOLS/venv
BASE_PYTHON=${AWSDYNAMIC_BASE_PYTHON:-python3}

mkdir -p "$BIN"
TOOLS=$(cd "$TOOLS" && pwd)
BIN=$TOOLS/bin
VENV=$TOOLS/venv

# Terraform/OpenTofu print a warning when TF_CLI_CONFIG_FILE names a missing
# file; always point them at an empty file we own. No update checks either.
# One run at a time per tools dir (several clones may share it).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS/.lock"
  flock 9
fi

CLI_CONFIG=$TOOLS/terraformrc
[[ -f $CLI_CONFIG ]] || : >"$CLI_CONFIG"
export TF_CLI_CONFIG_FILE=$CLI_CONFIG
export CHECKPOINT_DISABLE=1

# Go commands run outside the repository so they never touch its go.mod.
export GOWORK=off

log() { printf '%s\n' "$*" >&2; }
die() { printf 'tools.sh: %s\n' "$*" >&2; exit 1; }

# Module version recorded in a Go binary's build info ("" if unknown).
go_bin_module_version() {
  [[ -x $1 ]] || return 0
  go version -m "$1" 2>/dev/null | awk '$1 == "mod" && v == "" { v = $3 } END { print v }'
}

# ---- Python venv with moto -------------------------------------------------
REQUIREMENTS="moto==$MOTO_VERSION
flask==$FLASK_VERSION
flask-cors==$FLASK_CORS_VERSION"
STAMP=$VENV/.awsdynamic-requirements

install_moto() {
  local out
  command -v "$BASE_PYTHON" >/dev/null 2>&1 ||
    die "moto could not be installed: '$BASE_PYTHON' not found (set AWSDYNAMIC_BASE_PYTHON)"
  log "installing moto $MOTO_VERSION into $VENV ..."
  if ! out=$("$BASE_PYTHON" -m venv --clear "$VENV" 2>&1); then
    die "moto could not be installed: '$BASE_PYTHON -m venv' failed:
$out"
  fi
  printf '%s\n' "$REQUIREMENTS" >"$VENV/requirements.txt"
  if ! out=$("$VENV/bin/python" -m pip install --disable-pip-version-check \
      --no-input --quiet -r "$VENV/requirements.txt" 2>&1); then
    rm -f "$STAMP"
    die "moto could not be installed: pip install failed:
$(printf '%s\n' "$out" | tail -n 30)"
  fi
  printf '%s\n' "$REQUIREMENTS" >"$STAMP"
}

if [[ ! -x $VENV/bin/python || ! -f $STAMP || "$(cat "$STAMP")" != "$REQUIREMENTS" ]]; then
  install_moto
fi
# Verify the venv actually works (also yields the versions we print).
if ! py_versions=$("$VENV/bin/python" - <<'PY' 2>&1
import importlib.metadata as m
import moto.server, flask, flask_cors  # noqa: F401  (fails loudly if broken)
print(m.version("moto"), m.version("flask"), m.version("flask-cors"))
PY
); then
  die "moto could not be installed: the venv at $VENV is broken:
$py_versions
(delete $VENV and run again)"
fi
read -r got_moto got_flask got_flask_cors <<<"$py_versions"

# ---- Go tools ---------------------------------------------------------------
go_install() { # name version package
  local name=$1 version=$2 pkg=$3
  if [[ "$(go_bin_module_version "$BIN/$name")" != "$version" ]]; then
    log "installing $name $version ..."
    (cd "$TOOLS" && GOBIN=$BIN go install "$pkg@$version") ||
      die "$name $version could not be installed"
    [[ "$(go_bin_module_version "$BIN/$name")" == "$version" ]] ||
      die "$name: installed binary does not report $version"
  fi
}
go_install golangci-lint "$GOLANGCI_LINT_VERSION" github.com/golangci/golangci-lint/v2/cmd/golangci-lint
go_install tfplugindocs "$TFPLUGINDOCS_VERSION" github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs

# ---- OpenTofu (always; `make testacc-tofu` and docs generation use it) --------
TOFU=$BIN/tofu
tofu_version() { "$1" version 2>/dev/null | awk 'NR == 1 { print $2 }'; }

if [[ ! -x $TOFU || "$(tofu_version "$TOFU")" != "$TOFU_VERSION" ]]; then
  log "building OpenTofu $TOFU_VERSION from source (a few minutes on a cold Go build cache) ..."
  tofu_json=$(cd "$TOOLS" && go mod download -json "github.com/opentofu/opentofu@$TOFU_VERSION") ||
    die "OpenTofu $TOFU_VERSION: go mod download failed"
  tofu_src=$(printf '%s\n' "$tofu_json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | sed -n 1p)
  [[ -n $tofu_src && -d $tofu_src ]] || die "OpenTofu $TOFU_VERSION: no source Dir in: $tofu_json"
  # version.dev=no makes it report "v1.12.6" instead of "v1.12.6-dev", as
  # OpenTofu's release builds do.
  (cd "$tofu_src" && go build \
      -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
      -o "$TOFU.tmp" ./cmd/tofu) || die "OpenTofu $TOFU_VERSION: go build failed"
  mv -f "$TOFU.tmp" "$TOFU"
  [[ "$(tofu_version "$TOFU")" == "$TOFU_VERSION" ]] ||
    die "OpenTofu: built binary reports '$(tofu_version "$TOFU")', want $TOFU_VERSION"
fi

# ---- Terraform CLI for the acceptance tests ----------------------------------
# Prefer a real `terraform` >= $TERRAFORM_MIN_VERSION on PATH, else OpenTofu.
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | sed -n 1p)" == "$2" ]]; }

TERRAFORM=$TOFU
TERRAFORM_NAME=tofu
TF_ACC_PROVIDER_HOST=registry.opentofu.org
if tf_path=$(command -v terraform 2>/dev/null); then
  tf_path=$(readlink -f "$tf_path")
  tf_version=$("$tf_path" version 2>/dev/null | awk 'NR == 1 { print $2 }')
  tf_version=${tf_version#v}
  case $("$tf_path" version 2>/dev/null | sed -n 1p) in
    Terraform\ v*)
      if [[ -n $tf_version ]] && version_ge "$tf_version" "$TERRAFORM_MIN_VERSION"; then
        TERRAFORM=$tf_path
        TERRAFORM_NAME=terraform
        TF_ACC_PROVIDER_HOST=registry.terraform.io
      else
        log "terraform $tf_version at $tf_path is older than $TERRAFORM_MIN_VERSION; using OpenTofu"
      fi ;;
  esac
fi

# ---- env.sh ------------------------------------------------------------------
{
  echo "# Generated by scripts/tools.sh; do not edit. Source it: . \"$TOOLS/env.sh\""
  printf 'export AWSDYNAMIC_TOOLS_DIR=%q\n' "$TOOLS"
  printf 'export AWSDYNAMIC_TOOLS_BIN=%q\n' "$BIN"
  printf 'export AWSDYNAMIC_MOTO_PYTHON=%q\n' "$VENV/bin/python"
  printf 'export AWSDYNAMIC_TERRAFORM=%q\n' "$TERRAFORM"
  printf 'export AWSDYNAMIC_TF_ACC_PROVIDER_HOST=%q\n' "$TF_ACC_PROVIDER_HOST"
  printf 'export AWSDYNAMIC_TOFU=%q\n' "$TOFU"
  printf 'export AWSDYNAMIC_TF_CLI_CONFIG_FILE=%q\n' "$CLI_CONFIG"
  echo 'export CHECKPOINT_DISABLE=1'
} >"$TOOLS/env.sh.tmp"
mv -f "$TOOLS/env.sh.tmp" "$TOOLS/env.sh"

# ---- summary -----------------------------------------------------------------
terraform_version=$("$TERRAFORM" version 2>/dev/null | awk 'NR == 1 { print $2 }')
printf '%-14s %-10s %s\n' \
  moto "$got_moto" "$VENV/bin/python (flask $got_flask, flask-cors $got_flask_cors)" \
  golangci-lint "$(go_bin_module_version "$BIN/golangci-lint")" "$BIN/golangci-lint" \
  tfplugindocs "$(go_bin_module_version "$BIN/tfplugindocs")" "$BIN/tfplugindocs" \
  tofu "$(tofu_version "$TOFU")" "$TOFU" \
  terraform "$terraform_version" "$TERRAFORM ($TERRAFORM_NAME)"
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "tools ready in $TOOLS (${elapsed}s); env: $TOOLS/env.sh"
