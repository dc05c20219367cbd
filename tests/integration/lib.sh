# Shared helpers for the integration suites. Source it first; it sets `set -euo pipefail`,
# a scratch directory $T removed at exit, and small expect_* assertions that name what failed.
set -euo pipefail
: "${MTASTREAM:?run through ctest (MTASTREAM is the built binary)}"
: "${MTASTREAM_SOURCE_DIR:?}"
: "${MTASTREAM_TEST_STATE:=$MTASTREAM_SOURCE_DIR/build/test-state}"
SHARED_DATA="$MTASTREAM_SOURCE_DIR/../shared/data"
T=$(mktemp -d "${TMPDIR:-/tmp}/mtastream-test.XXXXXX")
cleanup_hooks=()
on_exit() { local h; for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done; rm -rf "$T"; }
trap on_exit EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
finish() { if [ "$failures" -gt 0 ]; then echo "$failures failure(s)" >&2; exit 1; fi; echo "all passed"; }

# expect_exit CODE DESCRIPTION -- COMMAND...: runs COMMAND, stdout to $T/out, stderr to $T/err.
expect_exit() {
  local want=$1 what=$2; shift 3
  local got=0
  "$@" >"$T/out" 2>"$T/err" || got=$?
  if [ "$got" -eq "$want" ]; then pass "$what"; else
    fail "$what: exit $got, expected $want"; sed 's/^/  stderr: /' "$T/err" | head -20 >&2; fi
}
expect_eq() { if [ "$1" == "$2" ]; then pass "$3"; else fail "$3: got '$1', expected '$2'"; fi; }
expect_contains() { if grep -qF -- "$2" "$1"; then pass "$3"; else fail "$3: '$2' not in $1"; head -20 "$1" >&2; fi; }
expect_not_contains() { if grep -qF -- "$2" "$1"; then fail "$3: '$2' found in $1"; else pass "$3"; fi; }
expect_empty() { if [ ! -s "$1" ]; then pass "$2"; else fail "$2: $1 is not empty"; head -5 "$1" >&2; fi; }

# wait_until TRIES WHAT -- COMMAND...: runs COMMAND (quietly) every 0.1 s until it succeeds, at most TRIES
# times: the way to wait for an observable state (a file, a log line, messages in a topic), never a bare
# sleep. A state not reached is a failure named WHAT (returns 1).
wait_until() {
  local tries=$1 what=$2 i; shift 3
  for ((i = 0; i < tries; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "$what: not reached after $tries tries"; return 1
}

# need SERVER: loads the addresses a fixture wrote (kafka: BOOTSTRAP, SASL_BOOTSTRAP, ...).
# A missing server is a failure, never a silent skip: CI must prove delivery against real parts.
need() {
  local env="$MTASTREAM_TEST_STATE/$1.env"
  [ -f "$env" ] || { echo "FAIL: $1 server not running (no $env); run through ctest" >&2; exit 1; }
  # shellcheck disable=SC1090
  source "$env"
}

# load_topic TOPIC PARTITIONS DIR: creates TOPIC (needs kafka) and writes DIR/p<N>.kv (KEY<TAB>VALUE lines,
# as consume_model.py generates them) into partition N with kcat, an independent idempotent producer.
load_topic() {
  local topic=$1 partitions=$2 dir=$3 p
  expect_exit 0 "topic create with $partitions partitions" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$topic" -p "$partitions"
  for ((p = 0; p < partitions; p++)); do
    kcat -P -b "$BOOTSTRAP" -t "$topic" -p "$p" -K $'\t' -X enable.idempotence=true <"$dir/p$p.kv" 2>/dev/null ||
      fail "kcat -P into partition $p"
  done
}

# free_port: a loopback TCP port nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_http URL CODE FILE [TRIES]: polls URL every 0.2 s until it answers CODE (body in FILE); prints the
# last code seen (000: no answer).
wait_http() {
  local code=000 i
  for ((i = 0; i < ${4:-50}; i++)); do
    code=$(curl -s -o "$3" -w '%{http_code}' --max-time 5 "$1" || true)
    [ "$code" = "$2" ] && break
    sleep 0.2
  done
  echo "$code"
}

# gcs_get OBJECT FILE: download from the GCS emulator (needs gcs) through its own media endpoint, not our client.
gcs_get() {
  local object; object=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")
  curl -sS -f -o "$2" "$GCS_ENDPOINT/storage/v1/b/$GCS_BUCKET/o/$object?alt=media"
}

# model ...: the consume suites' independent Python model (consume_model.py generate|expect|...).
model() { python3 "$MTASTREAM_SOURCE_DIR/tests/integration/consume_model.py" "$@"; }

# consume / consume_exec: `mtastream consume` against the test broker ($BOOTSTRAP, after `need kafka`) with a
# short session, so a killed member's partitions move on quickly; consume_exec for `consume_exec ... &`, where
# $! is then mtastream itself, not a subshell. lake_sums DIR: sha256 of every lake file, by name.
consume() { "$MTASTREAM" -b "$BOOTSTRAP" -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 consume "$@"; }
consume_exec() { exec "$MTASTREAM" -b "$BOOTSTRAP" -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 consume "$@"; }
sums() { (cd "$1" && sha256sum -- *.csv.gz); }
