#!/usr/bin/env bash
# Regenerates docs/ with tfplugindocs from the provider's schema, templates/
# and examples/ (after formatting examples/). Used by `make generate`,
# `make docs-check` and `go generate ./tools/...`.
#
# The schema is exported with the pinned OpenTofu from scripts/tools.sh
# ($AWSDYNAMIC_TOFU), not whatever `terraform` a machine happens to have, so
# the generated docs are byte-identical on every machine (this is why
# `make generate` and `make docs-check` build OpenTofu even where a terraform
# is on PATH). Set
# AWSDYNAMIC_DOCS_CLI to a terraform binary to use that instead.
#
# tfplugindocs would otherwise build the provider and run `terraform init`
# itself with a plugin directory laid out for registry.terraform.io, which
# OpenTofu does not read; exporting the schema here and passing it with
# --providers-schema works with both CLIs and needs no network.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# env.sh can exist without the two tools used here (`make demo` installs neither).
if [[ ! -x ${AWSDYNAMIC_TOFU:-} || ! -x ${AWSDYNAMIC_TOOLS_BIN:-}/tfplugindocs ]]; then
  tools_dir=${AWSDYNAMIC_TOOLS_DIR:-$HOME/.cache/terraform-provider-awsdynamic/tools}
  bash scripts/tools.sh docs tofu
  # shellcheck source=/dev/null
  . "$tools_dir/env.sh"
fi

PROVIDER=awsdynamic
CLI=${AWSDYNAMIC_DOCS_CLI:-$AWSDYNAMIC_TOFU}
export TF_CLI_CONFIG_FILE=$AWSDYNAMIC_TF_CLI_CONFIG_FILE
export CHECKPOINT_DISABLE=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Some tools look for `terraform` on PATH; make it the CLI chosen above.
mkdir -p "$work/path"
ln -s "$CLI" "$work/path/terraform"
export PATH=$work/path:$PATH

if [[ -d examples ]]; then
  echo "+ terraform fmt -recursive examples/"
  "$CLI" fmt -recursive examples/
fi

case $("$CLI" version | sed -n 1p) in
  OpenTofu*) host=registry.opentofu.org ;;
  *) host=registry.terraform.io ;;
esac

echo "+ exporting the provider schema with $("$CLI" version | sed -n 1p)"
plugin_dir=$work/schema/plugins/$host/hashicorp/$PROVIDER/0.0.1/$(go env GOOS)_$(go env GOARCH)
go build -o "$plugin_dir/terraform-provider-$PROVIDER" .
printf 'provider "%s" {}\n' "$PROVIDER" >"$work/schema/main.tf"
(
  cd "$work/schema"
  if ! out=$("$CLI" init -input=false -plugin-dir=./plugins 2>&1); then
    printf '%s\n' "$out" >&2
    exit 1
  fi
  "$CLI" providers schema -json >"$work/schema.raw.json"
)
# tfplugindocs looks the schema up as registry.terraform.io/hashicorp/NAME.
sed "s#\"${host//./\\.}/hashicorp/$PROVIDER\"#\"registry.terraform.io/hashicorp/$PROVIDER\"#" \
  "$work/schema.raw.json" >"$work/schema.json"

echo "+ tfplugindocs generate"
"$AWSDYNAMIC_TOOLS_BIN/tfplugindocs" generate \
  --provider-dir . \
  --provider-name "$PROVIDER" \
  --rendered-provider-name "$PROVIDER" \
  --providers-schema "$work/schema.json"
