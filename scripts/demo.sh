#!/usr/bin/env bash
# `make demo`: the provider at work against a local moto server, in about half a minute, with nothing left behind.
#
# Builds the provider, starts moto on a free loopback port, applies examples/quickstart with a dev_overrides CLI
# config (no registry, no `init`), then checks each step in AWS (moto) with boto3 and tells the story one line per
# step. Terraform's own output goes to a log that is printed only when a step fails.
#
# Environment: the variables of the tools' env.sh (the Makefile sources it); AWSDYNAMIC_DEMO_CLI picks the CLI
# (default $AWSDYNAMIC_TERRAFORM; e.g. AWSDYNAMIC_DEMO_CLI=$AWSDYNAMIC_TOFU for OpenTofu).
set -euo pipefail

start=$EPOCHREALTIME
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/lib.sh
source "$repo/scripts/lib.sh"

[[ -n ${AWSDYNAMIC_MOTO_PYTHON:-} && -n ${AWSDYNAMIC_TERRAFORM:-} ]] ||
  die "AWSDYNAMIC_MOTO_PYTHON and AWSDYNAMIC_TERRAFORM are not set: run 'make demo' (it sources the tools' env.sh)"
CLI=${AWSDYNAMIC_DEMO_CLI:-$AWSDYNAMIC_TERRAFORM}
PY=$AWSDYNAMIC_MOTO_PYTHON
[[ -x $CLI ]] || CLI=$(command -v "$CLI") || die "CLI '${AWSDYNAMIC_DEMO_CLI:-$AWSDYNAMIC_TERRAFORM}' not found"

work=$(mktemp -d "${TMPDIR:-/tmp}/awsdynamic-demo.XXXXXX")
tflog=$work/terraform.log
motolog=$work/moto.log
moto_pid=

cleanup() {
  local rc=$?
  set +e
  if [[ -n $moto_pid ]]; then
    # moto runs in its own process group (setsid): kill the group, then reap it.
    kill -KILL -- "-$moto_pid" 2>/dev/null
    wait "$moto_pid" 2>/dev/null
  fi
  if ((rc != 0)); then
    if [[ -s $tflog ]]; then
      printf '\n---- last lines of the %s log ----\n' "$(basename "$CLI")" >&2
      tail -n 40 "$tflog" >&2
    fi
    if [[ -s $motolog ]]; then
      printf '\n---- last lines of the moto log ----\n' >&2
      tail -n 15 "$motolog" >&2
    fi
    printf '\ndemo FAILED (exit %d)\n' "$rc" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '==> %s\n' "$*"; }

# ---- the provider, moto, and a CLI config that uses this build ------------------------------------------------
go build -o "$work/plugins/terraform-provider-awsdynamic" .

start_moto "$motolog" "$work/moto_recording"

write_dev_overrides "$work/terraformrc" "$work/plugins"

# Hermetic AWS settings: moto's test keys are the root identity; nothing from ~/.aws or instance metadata.
export TF_CLI_CONFIG_FILE=$work/terraformrc CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE \
  AWS_ENDPOINT_URL AWS_ENDPOINT_URL_IAM AWS_ENDPOINT_URL_STS TF_LOG TF_CLI_ARGS
export MOTO_URL=$moto

mkdir -p "$work/quickstart"
cp "$repo"/examples/quickstart/*.tf "$work/quickstart/"
cd "$work/quickstart"

# tf ARGS...: runs the CLI with its output in the log; a failure ends the demo (the trap prints the log).
tf() {
  printf '\n$ %s %s\n' "$(basename "$CLI")" "$*" >>"$tflog"
  "$CLI" "$@" -no-color >>"$tflog" 2>&1
}

# What AWS (moto) holds, asked with boto3, the SDK the AWS CLI uses. Prints one line; never prints a secret.
cat >"$work/aws.py" <<'PY'
import json, os, sys, base64, urllib.parse, urllib.request
import boto3

url = os.environ["MOTO_URL"]
def client(name, **kw):
    return boto3.client(name, endpoint_url=url, region_name="us-east-1", **kw)

iam = client("iam")
cmd = sys.argv[1]

def users():
    return [u["UserName"] for u in iam.list_users(PathPrefix="/awsdynamic/")["Users"]]

if cmd == "users":
    print(len(users()))
elif cmd == "user":
    name = sys.argv[2]
    u = iam.get_user(UserName=name)["User"]
    attached = [p["PolicyName"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]]
    inline = iam.list_user_policies(UserName=name)["PolicyNames"]
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]}
    keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    ours = sorted(f"{k}={v}" for k, v in tags.items() if not k.startswith("awsdynamic:"))
    lease = sorted(k for k in tags if k.startswith("awsdynamic:"))
    print(f"{name} created under {u['Path']} with policies: {', '.join(attached)} (attached), "
          f"{', '.join(inline)} (inline); tags: {', '.join(ours + lease)}; {len(keys)} access key")
elif cmd == "guard":
    # The date after which the expiry guard denies everything: AWS enforces the lease's expiry by itself.
    doc = iam.get_user_policy(UserName=sys.argv[2], PolicyName="awsdynamic-lease-guard")["PolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(urllib.parse.unquote(doc))
    print(" ".join(v for s in doc["Statement"] for c in s.get("Condition", {}).values()
                   for k, v in c.items() if k == "aws:CurrentTime"))
elif cmd == "whoami":
    # The issued key, from `output -json` on stdin: the secret goes from there to the SDK and nowhere else.
    out = json.load(sys.stdin)
    sts = client("sts", aws_access_key_id=out["access_key_id"]["value"],
                 aws_secret_access_key=out["secret_access_key"]["value"])
    print(sts.get_caller_identity()["Arn"])
elif cmd == "exists":
    try:
        iam.get_user(UserName=sys.argv[2])
        print("yes")
    except iam.exceptions.NoSuchEntityException:
        print("no")
elif cmd == "recording":
    # IAM calls on a user since the recorder started, in order, as "Action UserName" lines.
    raw = urllib.request.urlopen(url + "/moto-api/recorder/download-recording").read().decode()
    for line in raw.splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        body = rec.get("body") or ""
        if rec.get("body_encoded"):
            body = base64.b64decode(body).decode()
        form = urllib.parse.parse_qs(body)
        if "Action" in form and "UserName" in form:
            print(form["Action"][0], form["UserName"][0])
else:
    sys.exit(f"aws.py: unknown command {cmd}")
PY
ask_aws() { "$PY" "$work/aws.py" "$@"; }
recorder() { curl -sf -X POST "$moto/moto-api/recorder/$1" >/dev/null; }

cli_version=$("$CLI" version | sed -n 1p)
printf 'awsdynamic demo: %s, moto at %s\n' "$cli_version" "$moto"

# ---- 1. plan-time and apply-time validation of the role ---------------------------------------------------------
recorder reset-recording
recorder start-recording
tf validate
tf apply -auto-approve -input=false -var "moto_endpoint=$moto"
recorder stop-recording
say "1. role deploy validated: against IAM's limits at plan, and its policy ARN exists in the account at apply"

# ---- 2. the managed credential's IAM user, as AWS shows it -------------------------------------------------------
user=$("$CLI" output -raw iam_user_name)
lease_id=$("$CLI" output -raw lease_id)
say "2. IAM user $(ask_aws user "$user")"

# ---- 3. the issued key works --------------------------------------------------------------------------------------
key_id=$("$CLI" output -raw access_key_id)
arn=$("$CLI" output -json | ask_aws whoami)
[[ $arn == *":user/awsdynamic/$user" ]] || die "the issued key authenticates as $arn, not as $user"
say "3. the key $key_id authenticates as $arn"

# ---- 4. the ephemeral credential: issued and revoked within the run, never in state ------------------------------
mapfile -t calls < <(ask_aws recording)
eph_created=() eph_deleted=0
for c in "${calls[@]}"; do
  name=${c#* }
  [[ $name == "$user" ]] && continue
  case $c in
    CreateUser\ *) eph_created+=("$name") ;;
    DeleteUser\ *) eph_deleted=$((eph_deleted + 1)) ;;
  esac
done
((${#eph_created[@]} > 0)) || die "the apply created no IAM user for the ephemeral credential"
((eph_deleted == ${#eph_created[@]})) ||
  die "the ephemeral credential's users were created ${#eph_created[@]} times but deleted $eph_deleted times"
for name in "${eph_created[@]}"; do
  [[ $(ask_aws exists "$name") == no ]] || die "ephemeral IAM user $name still exists after the run"
  ! grep -q -- "$name" terraform.tfstate || die "ephemeral IAM user $name is in the state file"
done
n=${#eph_created[@]}
say "4. ephemeral credential opened and closed during the run (IAM user ${eph_created[n - 1]}, issued ${n}x):" \
  "gone from AWS, and not in state (grep of terraform.tfstate for its name finds nothing)"

# ---- 5. refresh: the lease is read back (and renewed once inside renew_before) -----------------------------------
tf apply -refresh-only -auto-approve -input=false -var "moto_endpoint=$moto"
expires=$("$CLI" output -raw expires_at)
guard=$(ask_aws guard "$user")
[[ $guard == "$expires" ]] || die "the expiry guard on $user denies after '$guard', but the lease expires at $expires"
say "5. refresh: lease $lease_id expires at $expires, and so says the expiry guard in AWS" \
  "(a refresh within renew_before = 30m of it renews both)"

# ---- 6. destroy revokes ---------------------------------------------------------------------------------------------
recorder reset-recording
recorder start-recording
tf destroy -auto-approve -input=false -var "moto_endpoint=$moto"
recorder stop-recording
[[ $(ask_aws exists "$user") == no ]] || die "IAM user $user still exists after destroy"
# moto's DeleteUser succeeds even with keys or policies left, so the calls are the proof, not the missing user.
revoke=$(ask_aws recording | awk -v u="$user" '
  $2 == u && $1 ~ /^(Delete|Detach|Remove)/ { if (!($1 in n)) order[++k] = $1; n[$1]++ }
  END { for (i = 1; i <= k; i++) printf "%s%s%s", (i > 1 ? ", " : ""), order[i], (n[order[i]] > 1 ? " x" n[order[i]] : "") }')
[[ $revoke == *DeleteAccessKey* && $revoke == *DeleteUser* ]] || die "destroy did not revoke $user: calls: $revoke"
say "6. destroy: everything revoked; moto recorded for $user: $revoke"

# ---- 7. nothing left --------------------------------------------------------------------------------------------
left=$(ask_aws users)
[[ $left == 0 ]] || die "$left IAM users are left under /awsdynamic/"
say "7. AWS is empty again: $left IAM users under /awsdynamic/"

elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
printf 'demo passed in %ss (%s)\n' "$elapsed" "$cli_version"
