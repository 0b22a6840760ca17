#!/usr/bin/env bash
# scripts/tools.sh [STEP...]: installs (or verifies) the tools the named steps
# need, then writes "$TOOLS/env.sh" for the Makefile and scripts to source.
# Each make target asks only for what it uses, so that `make demo` on a fresh
# machine does not wait minutes for a linter or an OpenTofu build it never runs.
#
# Steps (no argument = all of them, what `make tools` and CI want):
#   moto   $TOOLS/venv: Python venv with moto (server mode)   pip, ~20-60 s
#   cli    a Terraform/OpenTofu CLI for tests and the demo: `terraform` >=
#          $TERRAFORM_MIN_VERSION on PATH, else the `tofu` step        ~0 s
#   tofu   $TOOLS/bin/tofu, OpenTofu built from source via the Go module
#          proxy (testacc-tofu, docs)           ~2-5 min on a cold Go cache
#   lint   $TOOLS/bin/golangci-lint (go install)  ~1-3 min on a cold Go cache
#   docs   $TOOLS/bin/tfplugindocs  (go install)  ~0.5-1 min on a cold cache
#
# Tools live OUTSIDE the repository, in
#   ${AWSDYNAMIC_TOOLS_DIR:-$HOME/.cache/terraform-provider-awsdynamic/tools}
# so that every clone on the same machine (work trees, CI's fresh clone)
# reuses them. Delete that directory to start over.
#
# Idempotent: a step whose tool is already present at the pinned version only
# checks the version (about a second). env.sh always names every tool's path,
# whether or not its step has run yet; AWSDYNAMIC_TERRAFORM is the CLI the
# `cli` step chose.
#
# Also: $TOOLS/terraformrc, an empty Terraform/OpenTofu CLI config file.
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

ALL_STEPS="moto cli tofu lint docs"
STEPS=${*:-$ALL_STEPS}
for step in $STEPS; do
  case " $ALL_STEPS " in
    *" $step "*) ;;
    *) printf 'tools.sh: unknown step %q (steps: %s)\n' "$step" "$ALL_STEPS" >&2; exit 2 ;;
  esac
done
want() { [[ " $STEPS " == *" $1 "* ]]; }

TOOLS=${AWSDYNAMIC_TOOLS_DIR:-$HOME/.cache/terraform-provider-awsdynamic/tools}
BASE_PYTHON=${AWSDYNAMIC_BASE_PYTHON:-python3}

mkdir -p "$TOOLS/bin"
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
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

# Module version recorded in a Go binary's build info ("" if unknown).
go_bin_module_version() {
  [[ -x $1 ]] || return 0
  go version -m "$1" 2>/dev/null | awk '$1 == "mod" && v == "" { v = $3 } END { print v }'
}

summary=()
row() { summary+=("$(printf '%-14s %-10s %s' "$@")"); }

# ---- moto: Python venv with moto ---------------------------------------------
REQUIREMENTS="moto==$MOTO_VERSION
flask==$FLASK_VERSION
flask-cors==$FLASK_CORS_VERSION"
STAMP=$VENV/.awsdynamic-requirements

install_moto() {
  local out t=$EPOCHREALTIME
  command -v "$BASE_PYTHON" >/dev/null 2>&1 ||
    die "moto could not be installed: '$BASE_PYTHON' not found (set AWSDYNAMIC_BASE_PYTHON)"
  log "installing moto $MOTO_VERSION into $VENV (pip; about 20 s with a warm pip cache, a minute without) ..."
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
  log "  moto installed in $(since "$t")s"
}

if want moto; then
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
  row moto "$got_moto" "$VENV/bin/python (flask $got_flask, flask-cors $got_flask_cors)"
fi

# ---- lint, docs: Go tools ------------------------------------------------------
go_install() { # name version package duration
  local name=$1 version=$2 pkg=$3 duration=$4 t=$EPOCHREALTIME
  if [[ "$(go_bin_module_version "$BIN/$name")" != "$version" ]]; then
    log "installing $name $version (go install; $duration on a cold Go build cache, seconds on a warm one) ..."
    (cd "$TOOLS" && GOBIN=$BIN go install "$pkg@$version") ||
      die "$name $version could not be installed"
    [[ "$(go_bin_module_version "$BIN/$name")" == "$version" ]] ||
      die "$name: installed binary does not report $version"
    log "  $name installed in $(since "$t")s"
  fi
  row "$name" "$(go_bin_module_version "$BIN/$name")" "$BIN/$name"
}
if want lint; then
  go_install golangci-lint "$GOLANGCI_LINT_VERSION" github.com/golangci/golangci-lint/v2/cmd/golangci-lint "about 2 minutes"
fi
if want docs; then
  go_install tfplugindocs "$TFPLUGINDOCS_VERSION" github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs "about a minute"
fi

# ---- cli: the Terraform CLI for the tests and the demo ---------------------------
# Prefer a real `terraform` >= $TERRAFORM_MIN_VERSION on PATH, else OpenTofu
# (which the `tofu` step below then builds).
TOFU=$BIN/tofu
tofu_version() { "$1" version 2>/dev/null | awk 'NR == 1 { print $2 }'; }
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | sed -n 1p)" == "$2" ]]; }

find_terraform() { # prints the path of a suitable terraform, or nothing
  local tf_path tf_version
  tf_path=$(command -v terraform 2>/dev/null) || return 0
  tf_path=$(readlink -f "$tf_path")
  case $("$tf_path" version 2>/dev/null | sed -n 1p) in
    Terraform\ v*)
      tf_version=$("$tf_path" version 2>/dev/null | awk 'NR == 1 { print $2 }')
      tf_version=${tf_version#v}
      if [[ -n $tf_version ]] && version_ge "$tf_version" "$TERRAFORM_MIN_VERSION"; then
        printf '%s\n' "$tf_path"
      else
        log "terraform $tf_version at $tf_path is older than $TERRAFORM_MIN_VERSION; using OpenTofu"
      fi ;;
  esac
}

# The CLI env.sh names: kept from the previous env.sh when this run does not
# look (a `make lint` must not forget the demo's choice), else found anew.
TERRAFORM= TF_ACC_PROVIDER_HOST=
if ! want cli && [[ -f $TOOLS/env.sh ]]; then
  # shellcheck source=/dev/null
  TERRAFORM=$(. "$TOOLS/env.sh" && printf '%s' "${AWSDYNAMIC_TERRAFORM:-}")
  # shellcheck source=/dev/null
  TF_ACC_PROVIDER_HOST=$(. "$TOOLS/env.sh" && printf '%s' "${AWSDYNAMIC_TF_ACC_PROVIDER_HOST:-}")
fi
if want cli || [[ -z $TERRAFORM || -z $TF_ACC_PROVIDER_HOST ]]; then
  TERRAFORM=$(find_terraform)
  if [[ -n $TERRAFORM ]]; then
    TF_ACC_PROVIDER_HOST=registry.terraform.io
  else
    TERRAFORM=$TOFU
    TF_ACC_PROVIDER_HOST=registry.opentofu.org
    if want cli && ! want tofu; then
      log "no terraform >= $TERRAFORM_MIN_VERSION on PATH: the tests and the demo need OpenTofu"
      STEPS="$STEPS tofu"
    fi
  fi
fi

# ---- tofu: OpenTofu built from source ------------------------------------------
if want tofu; then
  if [[ ! -x $TOFU || "$(tofu_version "$TOFU")" != "$TOFU_VERSION" ]]; then
    t=$EPOCHREALTIME
    log "building OpenTofu $TOFU_VERSION from source (go build; 2-5 minutes on a cold Go build cache) ..."
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
    log "  OpenTofu built in $(since "$t")s"
  fi
  row tofu "$(tofu_version "$TOFU")" "$TOFU"
fi
if want cli; then
  row terraform "$("$TERRAFORM" version 2>/dev/null | awk 'NR == 1 { print $2 }')" \
    "$TERRAFORM ($(basename "$TERRAFORM"))"
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
printf '%s\n' "${summary[@]}"
echo "tools ready ($STEPS) in $TOOLS ($(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s); env: $TOOLS/env.sh"
