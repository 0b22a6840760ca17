#!/usr/bin/env bash
# scripts/bench.sh [GO_BENCH_OUTPUT]: the end-to-end half of `make bench`, and its report.
#
# Builds the provider, starts moto with the latency proxy (internal/acctest/faultproxy/cmd/faultproxy) in front of
# it, measures the provider's start-up, then applies and destroys BENCH_CREDENTIALS awsdynamic_credential resources
# from one role through the real CLI, with a provider process started here (-debug, attached with
# TF_REATTACH_PROVIDERS) so that its CPU time and peak RSS can be read from /proc. Then it prints one table from
# these figures and GO_BENCH_OUTPUT (the `go test -bench` output of internal/lease, which `make bench` passes), and
# writes it to bench/results.md with the raw benchmark output (so that benchstat can read that file too).
# bench/README.md explains every figure.
#
# Environment: the variables of the tools' env.sh (the Makefile sources it), and optionally
#   AWSDYNAMIC_BENCH_CLI  the CLI (default $AWSDYNAMIC_TERRAFORM; $AWSDYNAMIC_TOFU for OpenTofu)
#   BENCH_CREDENTIALS     how many credentials (default 50)      BENCH_PARALLELISM  -parallelism (default 10)
#   BENCH_LATENCY         latency added to every AWS call (default 20ms)
#   BENCH_RAW_MOTO=1      let moto's HTTP 500 for iam:ListServiceSpecificCredentials through (see the README)
#   BENCH_RESULTS         where the report goes (default bench/results.md)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
go_out=${1:-}

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/lib.sh
source "$repo/scripts/lib.sh"

[[ -n ${AWSDYNAMIC_MOTO_PYTHON:-} && -n ${AWSDYNAMIC_TERRAFORM:-} ]] ||
  die "AWSDYNAMIC_MOTO_PYTHON and AWSDYNAMIC_TERRAFORM are not set: run 'make bench' (it sources the tools' env.sh)"
CLI=${AWSDYNAMIC_BENCH_CLI:-$AWSDYNAMIC_TERRAFORM}
[[ -x $CLI ]] || CLI=$(command -v "$CLI") || die "CLI '${AWSDYNAMIC_BENCH_CLI:-$AWSDYNAMIC_TERRAFORM}' not found"
PY=$AWSDYNAMIC_MOTO_PYTHON
COUNT=${BENCH_CREDENTIALS:-50}
PARALLELISM=${BENCH_PARALLELISM:-10}
LATENCY=${BENCH_LATENCY:-20ms}
RAW_MOTO=${BENCH_RAW_MOTO:-0}
RESULTS=${BENCH_RESULTS:-$repo/bench/results.md}
[[ -z $go_out || -s $go_out ]] || die "go benchmark output '$go_out' is missing or empty"

work=$(mktemp -d "${TMPDIR:-/tmp}/awsdynamic-bench.XXXXXX")
tflog=$work/cli.log
moto_pid= proxy_pid= provider_pid=

cleanup() {
  local rc=$?
  set +e
  # Only the processes this script started, by their ids.
  if [[ -n $provider_pid ]]; then kill -INT "$provider_pid" 2>/dev/null; wait "$provider_pid" 2>/dev/null; fi
  if [[ -n $proxy_pid ]]; then kill -TERM "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null; fi
  if [[ -n $moto_pid ]]; then kill -KILL -- "-$moto_pid" 2>/dev/null; wait "$moto_pid" 2>/dev/null; fi
  if ((rc != 0)); then
    [[ -s $tflog ]] && { printf '\n---- last lines of the CLI log ----\n' >&2; tail -n 40 "$tflog" >&2; }
    [[ -s $work/provider.out ]] && { printf '\n---- last lines of the provider log ----\n' >&2; tail -n 15 "$work/provider.out" >&2; }
    printf '\nbench FAILED (exit %d)\n' "$rc" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '==> %s\n' "$*" >&2; }
# first_line OUT SED_SCRIPT PID TRIES NAME WHAT: polls OUT every 50 ms, at most TRIES times, until SED_SCRIPT prints
# something from it, and prints that. Dies (the caller's $(...) then fails, and set -e ends the script) if process
# PID exits first or the line never comes; NAME is the process and WHAT the line, for the message.
first_line() {
  local out=$1 script=$2 pid=$3 tries=$4 name=$5 what=$6 line
  for _ in $(seq 1 "$tries"); do
    line=$(sed -n "$script" "$out")
    [[ -n $line ]] && { printf '%s\n' "$line"; return 0; }
    kill -0 "$pid" 2>/dev/null || die "$name exited: $(cat "$out")"
    sleep 0.05
  done
  die "$name did not print $what"
}
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

# ---- the machine -----------------------------------------------------------------------------------------------
# An empty CLI config (make tools writes one) keeps the CLI from warning about a missing ~/.terraformrc.
cli_version=$(TF_CLI_CONFIG_FILE=${AWSDYNAMIC_TF_CLI_CONFIG_FILE:-/dev/null} "$CLI" version | sed -n 1p)
moto_version=$("$PY" -c 'import moto; print(moto.__version__)')
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n 1p)
[[ -n $cpu_model ]] || cpu_model=$(uname -m)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- builds ----------------------------------------------------------------------------------------------------
say "building the provider and the latency proxy"
go build -o "$work/plugins/terraform-provider-awsdynamic" .
go build -trimpath -ldflags "-s -w" -o "$work/release/terraform-provider-awsdynamic" .
go build -o "$work/faultproxy" ./internal/acctest/faultproxy/cmd/faultproxy
provider_bin=$work/plugins/terraform-provider-awsdynamic
size_dev=$(stat -c %s "$provider_bin")
size_release=$(stat -c %s "$work/release/terraform-provider-awsdynamic")

# ---- moto, and the proxy in front of it ---------------------------------------------------------------------------
say "starting moto and the latency proxy ($LATENCY per call)"
start_moto "$work/moto.log" "$work/moto_recording"

proxy_flags=(-target "$moto" -latency "$LATENCY")
[[ $RAW_MOTO == 1 ]] || proxy_flags+=(-answer-unimplemented)
# Each log file exists before its background job starts: the job opens it only when it gets to run, and the wait
# below reads it at once (start_moto does the same for moto's).
: >"$work/proxy.out"
"$work/faultproxy" "${proxy_flags[@]}" >>"$work/proxy.out" 2>&1 &
proxy_pid=$!
proxy=$(first_line "$work/proxy.out" '1{/^http:/p}' "$proxy_pid" 100 "the proxy" "its URL")

# ---- helpers in Python (the moto venv has boto3) ----------------------------------------------------------------
cat >"$work/helper.py" <<'PY'
import json, os, signal, statistics, subprocess, sys, time

cmd = sys.argv[1]
if cmd == "startup":
    # Milliseconds from exec to the line that says the provider serves (TF_REATTACH_PROVIDERS): the median of N.
    binary, n = sys.argv[2], int(sys.argv[3])
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        p = subprocess.Popen([binary, "-debug"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in p.stdout:
            if "TF_REATTACH_PROVIDERS=" in line:
                times.append((time.perf_counter() - t0) * 1000)
                break
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if len(times) != n:
        sys.exit("the provider did not print TF_REATTACH_PROVIDERS")
    print(f"{statistics.median(times):.1f}")
elif cmd == "users":
    import boto3
    iam = boto3.client("iam", endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")
    n = 0
    for page in iam.get_paginator("list_users").paginate(PathPrefix="/awsdynamic/"):
        n += len(page["Users"])
    print(n)
elif cmd == "calls":
    # The proxy's stats (stdin): total calls, and the calls per action as "Action N, ...".
    s = json.load(sys.stdin)
    print(s["calls"], ", ".join(f"{k} {v}" for k, v in sorted(s["counts"].items())))
else:
    sys.exit(f"helper.py: unknown command {cmd}")
PY
helper() { "$PY" "$work/helper.py" "$@"; }

# ---- start-up -------------------------------------------------------------------------------------------------------
say "start-up: provider to serving (5 runs), and 'providers schema -json' through the CLI (3 runs)"
startup_ms=$(helper startup "$provider_bin" 5)

write_dev_overrides "$work/terraformrc" "$work/plugins"
mkdir -p "$work/config"
cat >"$work/config/main.tf" <<EOF
# Generated by scripts/bench.sh.
terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

variable "endpoint" {
  type = string
}

provider "awsdynamic" {
  region = "us-east-1"
  endpoints {
    iam = var.endpoint
    sts = var.endpoint
  }
}

resource "awsdynamic_role" "bench" {
  name            = "bench"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
}

resource "awsdynamic_credential" "bench" {
  count = $COUNT
  role  = awsdynamic_role.bench
  ttl   = "1h"
}
EOF

# Hermetic AWS settings: moto's test keys are the root identity; nothing from ~/.aws or instance metadata. The
# provider process started below inherits them.
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE \
  AWS_ENDPOINT_URL AWS_ENDPOINT_URL_IAM AWS_ENDPOINT_URL_STS TF_LOG TF_LOG_PROVIDER TF_CLI_ARGS TF_REATTACH_PROVIDERS
export MOTO_URL=$moto
cd "$work/config"

schema_runs=()
for _ in 1 2 3; do
  t=$EPOCHREALTIME
  TF_CLI_CONFIG_FILE=$work/terraformrc "$CLI" providers schema -json >"$work/schema.json" 2>>"$tflog" ||
    die "'providers schema -json' failed"
  schema_runs+=("$(ms_since "$t")")
done
schema_ms=$(printf '%s\n' "${schema_runs[@]}" | sort -n | sed -n 2p)
grep -q '"awsdynamic_credential"' "$work/schema.json" || die "the schema has no awsdynamic_credential"

# ---- the provider process the CLI attaches to ---------------------------------------------------------------------
: >"$work/provider.out"
"$provider_bin" -debug >>"$work/provider.out" 2>&1 &
provider_pid=$!
reattach=$(first_line "$work/provider.out" "s/.*TF_REATTACH_PROVIDERS='\(.*\)'.*/\1/p" "$provider_pid" 300 "the provider" TF_REATTACH_PROVIDERS)
# OpenTofu looks the provider up under its own registry's host.
if [[ $cli_version == OpenTofu* ]]; then reattach=${reattach//registry.terraform.io/registry.opentofu.org}; fi
export TF_REATTACH_PROVIDERS=$reattach TF_CLI_CONFIG_FILE=/dev/null

clk_tck=$(getconf CLK_TCK)
cpu_ms() { awk -v hz="$clk_tck" '{ printf "%.0f", ($14 + $15) * 1000 / hz }' "/proc/$provider_pid/stat"; }
hwm_kib() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$provider_pid/status"; }
# Writing 5 to clear_refs resets the peak RSS (VmHWM), so that each phase reports its own peak.
hwm_reset() { if echo 5 >"/proc/$provider_pid/clear_refs" 2>/dev/null; then echo phase; else echo process; fi; }
proxy_reset() { curl -sf -X POST "$proxy/_faultproxy/reset" >/dev/null; }
proxy_calls() { curl -sf "$proxy/_faultproxy/stats" | helper calls; }

# run PHASE ARGS...: the CLI with its output in the log; sets <PHASE>_wall_ms, _cli_cpu_ms, _cli_rss_kib,
# _cpu_ms (provider), _hwm_kib, _hwm_scope, _calls.
run() {
  local phase=$1
  shift
  proxy_reset
  local scope cpu0 t
  scope=$(hwm_reset)
  cpu0=$(cpu_ms)
  printf '\n$ %s %s\n' "$(basename "$CLI")" "$*" >>"$tflog"
  t=$EPOCHREALTIME
  /usr/bin/time -f '%U %S %M' -o "$work/time.$phase" "$CLI" "$@" -no-color >>"$tflog" 2>&1 ||
    die "$(basename "$CLI") $1 failed"
  printf -v "${phase}_wall_ms" '%s' "$(ms_since "$t")"
  printf -v "${phase}_cpu_ms" '%s' "$(($(cpu_ms) - cpu0))"
  printf -v "${phase}_hwm_kib" '%s' "$(hwm_kib)"
  printf -v "${phase}_hwm_scope" '%s' "$scope"
  printf -v "${phase}_calls" '%s' "$(proxy_calls)"
  read -r u s m <"$work/time.$phase"
  printf -v "${phase}_cli_cpu_ms" '%s' "$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.0f", (u + s) * 1000 }')"
  printf -v "${phase}_cli_rss_kib" '%s' "$m"
}

say "apply: $COUNT credentials, -parallelism=$PARALLELISM"
run apply apply -auto-approve -input=false -parallelism="$PARALLELISM" -var "endpoint=$proxy"
users=$(helper users)
[[ $users == "$COUNT" ]] || die "after apply moto holds $users IAM users under /awsdynamic/, not $COUNT"

say "destroy"
run destroy destroy -auto-approve -input=false -parallelism="$PARALLELISM" -var "endpoint=$proxy"
users=$(helper users)
[[ $users == 0 ]] || die "after destroy moto still holds $users IAM users under /awsdynamic/"

kill -INT "$provider_pid" 2>/dev/null
wait "$provider_pid" 2>/dev/null || true
provider_pid=
cd "$repo"

# ---- the report --------------------------------------------------------------------------------------------------
cat >"$work/e2e.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "nproc": "$(nproc)",
  "cpu": "$cpu_model",
  "kernel": "$(uname -sr)",
  "load_start": "$load_start",
  "load_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "go": "$(go version | sed 's/^go version //')",
  "cli": "$cli_version",
  "moto": "$moto_version",
  "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+changes')",
  "latency": "$LATENCY",
  "raw_moto": "$RAW_MOTO",
  "count": $COUNT,
  "parallelism": $PARALLELISM,
  "size_dev": $size_dev,
  "size_release": $size_release,
  "startup_ms": $startup_ms,
  "schema_ms": $schema_ms,
  "apply": {"wall_ms": $apply_wall_ms, "cpu_ms": $apply_cpu_ms, "hwm_kib": $apply_hwm_kib, "hwm_scope": "$apply_hwm_scope",
            "cli_cpu_ms": $apply_cli_cpu_ms, "cli_rss_kib": $apply_cli_rss_kib, "calls": "$apply_calls"},
  "destroy": {"wall_ms": $destroy_wall_ms, "cpu_ms": $destroy_cpu_ms, "hwm_kib": $destroy_hwm_kib, "hwm_scope": "$destroy_hwm_scope",
              "cli_cpu_ms": $destroy_cli_cpu_ms, "cli_rss_kib": $destroy_cli_rss_kib, "calls": "$destroy_calls"}
}
EOF

cat >"$work/report.py" <<'PY'
import json, re, statistics, sys

e = json.load(open(sys.argv[1]))
go_path = sys.argv[2] if len(sys.argv) > 2 else ""
go_raw = open(go_path).read() if go_path else ""

# go test -bench lines: name-P  N  value unit  value unit ...; with -count > 1, the median of the samples.
samples, logs = {}, []
for line in go_raw.splitlines():
    if line.startswith("Benchmark"):
        f = line.split()
        name = re.sub(r"-\d+$", "", f[0])
        for i in range(2, len(f) - 1, 2):
            samples.setdefault(name, {}).setdefault(f[i + 1], []).append(float(f[i]))
    elif line.startswith("propagation-schedule-aws: "):
        logs.append(line.split(": ", 1)[1].strip())
bench = {n: {u: statistics.median(v) for u, v in units.items()} for n, units in samples.items()}
config = {k: v for k, v in re.findall(r"^(goos|goarch|cpu|pkg): (.*)$", go_raw, re.M)}
benchtime = re.search(r"^# benchtime: (.*)$", go_raw, re.M)

def g(name, unit, fmt="{:.1f}", scale=1.0):
    v = bench.get(name, {}).get(unit)
    return "–" if v is None else fmt.format(v * scale)

def num(v):
    return ("{:.0f}" if v == int(v) else "{:.1f}").format(v)

def gn(name, unit):
    v = bench.get(name, {}).get(unit)
    return "–" if v is None else num(v)

out = []
w = out.append
w("# awsdynamic benchmark results")
w("")
w(f"`make bench` of {e['commit']}, {e['date']}. Figures are explained in bench/README.md; the raw `go test -bench` "
  "output at the end is what benchstat compares (`benchstat old.md new.md` reads this file).")
w("")
w("## Machine")
w("")
w("| | |")
w("|---|---|")
w(f"| date (UTC) | {e['date']} |")
w(f"| CPU | {e['cpu']}, nproc {e['nproc']} |")
w(f"| load average (1/5/15 min) | {e['load_start']} at start, {e['load_end']} at end |")
w(f"| kernel | {e['kernel']} |")
w(f"| Go | {e['go']} |")
w(f"| CLI | {e['cli']} |")
w(f"| moto | {e['moto']} |")
w(f"| injected latency | {e['latency']} per AWS call (faultproxy) |")
w(f"| Go benchmarks | {benchtime.group(1) if benchtime else '–'} (figures are medians over -count) |")
w("")

w(f"## Engine: internal/lease benchmarks through the latency proxy ({e['latency']} per call)")
w("")
w("| operation | policy ARNs | ms/op | calls/op | round trips/op (target) | slowest call ms | new conns/op | propagation calls/op | propagation ms/op |")
w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in (1, 5, 10):
    b = f"BenchmarkIssue/arns={n}"
    w(f"| issue | {n} | {g(b, 'ns/op', scale=1e-6)} | {gn(b, 'calls/op')} | {gn(b, 'round-trips/op')} (3) | "
      f"{g(b, 'slowest-call-ms/op')} | {gn(b, 'new-conns/op')} | {gn(b, 'propagation-calls/op')} | {g(b, 'propagation-ms/op')} |")
for n in (1, 5, 10):
    b = f"BenchmarkRevoke/arns={n}"
    w(f"| revoke | {n} | {g(b, 'ns/op', scale=1e-6)} | {gn(b, 'calls/op')} | {gn(b, 'round-trips/op')} (3) | "
      f"{g(b, 'slowest-call-ms/op')} | {gn(b, 'new-conns/op')} | | |")
b = "BenchmarkRevokeMoto500/arns=1"
w(f"| revoke, moto's 500 for ListServiceSpecificCredentials retried (not AWS) | 1 | {g(b, 'ns/op', scale=1e-6)} | "
  f"{gn(b, 'calls/op')} | {gn(b, 'round-trips/op')} | {g(b, 'slowest-call-ms/op')} | {gn(b, 'new-conns/op')} | | |")
b = "BenchmarkRenew"
w(f"| renew | any | {g(b, 'ns/op', scale=1e-6)} | {gn(b, 'calls/op')} | {gn(b, 'round-trips/op')} (2: tag, then guard) | "
  f"{g(b, 'slowest-call-ms/op')} | {gn(b, 'new-conns/op')} | | |")
for check, what, calls in ((True, "key's last use, guard, keys, login profile: check_added_credentials, the default", 4),
                           (False, "key's last use, guard: check_added_credentials = false", 2)):
    b = f"BenchmarkRefresh/check_added_credentials={'true' if check else 'false'}"
    w(f"| refresh ({what}) | any | {g(b, 'ns/op', scale=1e-6)} | {gn(b, 'calls/op')} (target {calls}) | "
      f"{gn(b, 'round-trips/op')} (1) | {g(b, 'slowest-call-ms/op')} | {gn(b, 'new-conns/op')} | | |")
w("")
# Every sentence below the tables is computed from, or checked against, this run's figures: a conclusion the data
# does not support is not printed (the figure is, with what was expected of it).
def same_in_every_sample(name, unit):
    v = samples.get(name, {}).get(unit, [])
    return len(v) > 1 and len(set(v)) == 1

i1, i10 = bench.get("BenchmarkIssue/arns=1", {}), bench.get("BenchmarkIssue/arns=10", {})
if "ns/op" in i1 and "ns/op" in i10:
    whole = i10["ns/op"] / i1["ns/op"]
    pre1 = i1["ns/op"] / 1e6 - i1.get("propagation-ms/op", 0)
    pre10 = i10["ns/op"] / 1e6 - i10.get("propagation-ms/op", 0)
    verdict = "within" if whole <= 1.3 else "NOT within"
    w(f"Issue with 10 policy ARNs vs 1 (target: within 1.3×): **{whole:.2f}×** ({verdict} the target) for the whole "
      f"issue, {pre10 / pre1:.2f}× before the propagation check ({pre10:.1f} vs {pre1:.1f} ms; the latency floor is "
      f"3 × {e['latency']}).")
    rt1, rt10 = i1.get("round-trips/op"), i10.get("round-trips/op")
    s1, s10 = i1.get("slowest-call-ms/op"), i10.get("slowest-call-ms/op")
    if rt1 is not None and rt1 == rt10:
        line = f"Both make {num(rt1)} round trips{'' if rt1 == 3 else ' (target 3)'}"
        # The concurrent round is what is left of the calls without CreateUser, CreateAccessKey and the check's.
        fan = i10.get("calls/op", 0) - i10.get("propagation-calls/op", 0) - 2
        if s1 is not None and s10 is not None and pre10 > pre1 and s10 - s1 >= 0.5 * (pre10 - pre1):
            share = ("all of the difference" if s10 - s1 >= pre10 - pre1 else
                     f"most of the difference ({s10 - s1:.1f} of {pre10 - pre1:.1f} ms)")
            line += (f"; {share} is the slowest call of the concurrent round ({s10:.1f} vs {s1:.1f} ms): moto serving "
                     f"{num(fan)} calls at once on this machine's cores, where AWS serves them in parallel")
        w(line + ".")
    elif rt1 is not None and rt10 is not None:
        w(f"Round trips differ: {num(rt1)} with 1 ARN, {num(rt10)} with 10 (target 3 for both).")
    w("")
for n in (1, 5, 10):
    rt = bench.get(f"BenchmarkRevoke/arns={n}", {}).get("round-trips/op")
    if rt is not None and rt != 3:
        w(f"Revoke with {n} ARNs took {num(rt)} sequential round trips; the target is 3.")
        w("")

a, d, n = e["apply"], e["destroy"], e["count"]
w(f"## End to end: {n} awsdynamic_credential (count = {n}, one role, 1 policy ARN), "
  f"`-parallelism={e['parallelism']}`, {e['latency']} per call")
w("")
if e["raw_moto"] == "1":
    w("BENCH_RAW_MOTO=1: moto's HTTP 500 for iam:ListServiceSpecificCredentials reached the provider, which retried it.")
    w("")
def mib(kib):
    return f"{kib / 1024:.1f} MiB"
def calls(s):
    total, _, detail = s.partition(" ")
    return int(total), detail
at, adetail = calls(a["calls"])
dt, ddetail = calls(d["calls"])
w("| figure | apply | destroy |")
w("|---|---:|---:|")
w(f"| wall time | {a['wall_ms'] / 1000:.2f} s | {d['wall_ms'] / 1000:.2f} s |")
w(f"| provider CPU (user+sys) per credential | {a['cpu_ms'] / n:.1f} ms | {d['cpu_ms'] / n:.1f} ms |")
w(f"| provider CPU, whole run | {a['cpu_ms']} ms ({100 * a['cpu_ms'] / a['wall_ms']:.0f}% of wall) | "
  f"{d['cpu_ms']} ms ({100 * d['cpu_ms'] / d['wall_ms']:.0f}% of wall) |")
scope = lambda p: "" if p["hwm_scope"] == "phase" else " (since start)"
w(f"| provider peak RSS | {mib(a['hwm_kib'])}{scope(a)} | {mib(d['hwm_kib'])}{scope(d)} |")
w(f"| CLI CPU / CLI peak RSS | {a['cli_cpu_ms']} ms / {mib(a['cli_rss_kib'])} | {d['cli_cpu_ms']} ms / {mib(d['cli_rss_kib'])} |")
w(f"| AWS calls (per credential) | {at} ({at / n:.1f}) | {dt} ({dt / n:.1f}) |")
w("")
w(f"- apply calls: {adetail}")
w(f"- destroy calls: {ddetail}")
w("")
w("## Provider process")
w("")
w("| figure | value |")
w("|---|---:|")
w(f"| start-up: exec to serving (TF_REATTACH_PROVIDERS printed), median of 5 | {e['startup_ms']:.1f} ms |")
w(f"| `{e['cli'].split()[0].lower()} providers schema -json` with dev_overrides (CLI + provider), median of 3 | {e['schema_ms']} ms |")
w(f"| binary size, `go build` | {e['size_dev'] / 2**20:.1f} MiB ({e['size_dev']} B) |")
w(f"| binary size, release flags (`-trimpath -ldflags '-s -w'`, as .goreleaser.yml) | {e['size_release'] / 2**20:.1f} MiB ({e['size_release']} B) |")
w("")
w("## Propagation wait")
w("")
w("| | |")
w("|---|---|")
p1 = bench.get("BenchmarkIssue/arns=1", {})
sched = re.match(r"(\d+) successes in a row; pause (\d+(?:\.\d+)?)(ms|s) ", logs[0]) if logs else None
if p1:
    pc = p1.get("propagation-calls/op", 0)
    want = int(sched.group(1)) if sched else None
    if want is not None and pc == want:
        how = f"{num(pc)} GetCallerIdentity calls, the {want} successes in a row required, so no attempt failed"
    elif want is not None:
        how = f"{num(pc)} GetCallerIdentity calls where {want} successes in a row are required: {num(pc - want)} failed attempts"
    else:
        how = f"{num(pc)} GetCallerIdentity calls"
    w(f"| against moto (BenchmarkIssue, first pause 10ms) | +{num(p1.get('propagation-ms/op', 0))} ms per issue: "
      f"{how}, at {e['latency']} each, and the pauses between them |")
best = ""
if sched:
    k, pause = int(sched.group(1)), float(sched.group(2)) * (1000 if sched.group(3) == "s" else 1)
    best = f": at best {k} round trips plus {num((k - 1) * pause / 2)}–{num((k - 1) * pause)} ms ({k - 1} jittered pauses)"
w(f"| schedule against AWS (PropagationPolicy defaults) | {logs[0] if logs else '–'}{best} |")
w("")
w("## Notes")
w("")
load1 = float(e["load_start"].split()[0])
if load1 >= 0.5 * int(e["nproc"]):
    w(f"- The machine was busy when the run started (1-minute load average {load1:.2f} on {e['nproc']} CPUs): moto, "
      "the proxy, the CLI and the provider competed with other work for the cores, so the ms figures are noisier and "
      "higher than on an idle machine.")
counted = [n for n in samples if "calls/op" in samples[n] and len(samples[n]["calls/op"]) > 1]
if counted:
    steady = [n for n in counted if same_in_every_sample(n, "calls/op") and same_in_every_sample(n, "round-trips/op")]
    if len(steady) == len(counted):
        w(f"- calls/op and round trips/op were the same in every sample of each of the {len(counted)} benchmarks run "
          "more than once.")
    else:
        w(f"- calls/op or round trips/op varied between samples of: {', '.join(sorted(set(counted) - set(steady)))}.")
r1, m500 = bench.get("BenchmarkRevoke/arns=1", {}), bench.get("BenchmarkRevokeMoto500/arns=1", {})
if "calls/op" in r1 and "calls/op" in m500:
    extra = m500["calls/op"] - r1["calls/op"]
    if extra > 0:
        w(f"- moto's HTTP 500 for iam:ListServiceSpecificCredentials (AWS answers it) cost {num(extra)} more calls per "
          f"revoke here, the SDK's retries of it, and {g('BenchmarkRevokeMoto500/arns=1', 'ns/op', scale=1e-6)} ms "
          f"instead of {g('BenchmarkRevoke/arns=1', 'ns/op', scale=1e-6)} ms. The other revoke rows, and the end-to-end "
          "run unless BENCH_RAW_MOTO=1, replace that 500 with AWS's empty answer after the call went through the proxy "
          "(it is counted and delayed like the others).")
    else:
        w(f"- The moto-500 revoke made {num(m500['calls/op'])} calls, the answered one {num(r1['calls/op'])}: moto no "
          "longer seems to fail iam:ListServiceSpecificCredentials; bench/README.md's section on it is out of date.")
nc = {n: b["new-conns/op"] for n, b in bench.items() if "new-conns/op" in b}
if nc:
    opened = {n: v for n, v in nc.items() if v > 0}
    if opened:
        w("- The SDK opened new connections during: " + ", ".join(f"{n} ({num(v)}/op)" for n, v in sorted(opened.items()))
          + "; against AWS each costs a TCP and TLS handshake before its call.")
    else:
        w(f"- No benchmark opened a new connection once warm (new conns/op 0 in all {len(nc)}): the provider's idle pool "
          "held every connection a fan-out needed.")
if go_raw:
    w("")
    w("## Raw `go test -bench` output (benchstat input)")
    w("")
    w("```")
    w(go_raw.rstrip("\n"))
    w("```")
print("\n".join(out))
PY

if [[ -n $go_out ]]; then
  { printf '# benchtime: -benchtime=%s -count=%s\n' "${BENCHTIME:-unknown}" "${BENCHCOUNT:-1}"; cat "$go_out"; } >"$work/go.txt"
  report=$("$PY" "$work/report.py" "$work/e2e.json" "$work/go.txt")
else
  report=$("$PY" "$work/report.py" "$work/e2e.json")
fi
mkdir -p "$(dirname "$RESULTS")"
printf '%s\n' "$report" >"$RESULTS"
printf '\n%s\n\nwritten to %s\n' "$report" "${RESULTS#"$repo"/}"
