# shellcheck shell=bash
# Sourced by scripts/bench.sh and scripts/demo.sh: what both need to run the provider built from this tree against
# a local moto server. The caller defines die (its message prefix) and PY (the tools' moto Python), and its cleanup
# trap kills the process group $moto_pid.

# start_moto LOG RECORDING: starts moto on a free loopback port, in its own process group (setsid), with AWS's
# managed policies loaded and its recorder writing to RECORDING; its output goes to LOG. Sets moto_pid at once (for
# the caller's cleanup), then moto to moto's URL once moto printed its port and answers. Dies if moto exits during
# start-up or never prints its port within 60s.
start_moto() {
  local log=$1 recording=$2 port
  # LOG exists before the job starts: the job opens it only when it gets to run, and the loop below reads it at once.
  : >"$log"
  MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_RECORDER_FILEPATH="$recording" PYTHONUNBUFFERED=1 \
    setsid "$PY" -m moto.server -H 127.0.0.1 -p 0 >>"$log" 2>&1 </dev/null &
  moto_pid=$!
  moto=
  for _ in $(seq 1 600); do
    kill -0 "$moto_pid" 2>/dev/null || die "moto exited during start-up: $(tail -n 5 "$log")"
    if [[ -z $moto ]]; then
      port=$(sed -n 's/.* \* Running on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | sed -n 1p)
      [[ -n $port ]] && moto=http://127.0.0.1:$port
    fi
    if [[ -n $moto ]] && [[ $(curl -s -o /dev/null -w '%{http_code}' "$moto/moto-api/") == 200 ]]; then break; fi
    sleep 0.1
  done
  [[ -n $moto ]] || die "moto did not print its port within 60s"
}

# write_dev_overrides FILE PLUGINS: writes to FILE a CLI config that takes awsdynamic/awsdynamic from the directory
# PLUGINS (dev_overrides: no registry, no `init`) and every other provider as usual.
write_dev_overrides() {
  cat >"$1" <<RC
provider_installation {
  dev_overrides {
    "awsdynamic/awsdynamic" = "$2"
  }
  direct {}
}
RC
}
