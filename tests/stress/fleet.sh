#!/usr/bin/env bash
# Stress (not in CI; consume_group.sh has the short version): an -e fleet under churn never reports done with
# a partition unread. Per trial: three `consume -e` members of a fresh group on a topic keyed by random ID, one
# killed with SIGKILL about 0.9 s in, a fourth started 0.5 s later. Every member that exits 0 or 3 must leave
# the whole lake (the same files and bytes as one consumer); any other exit must be non-zero, never 0 with a
# partition missing.
# usage: scripts/test-server.sh start kafka build/test-state
#        MTASTREAM=build/mtastream MTASTREAM_SOURCE_DIR=. MTASTREAM_TEST_STATE=build/test-state \
#          TRIALS=30 bash tests/stress/fleet.sh
source "$(dirname "$0")/../integration/lib.sh"
need kafka
trials=${TRIALS:-30}
opts=(-b "$BOOTSTRAP" -X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
member() { exec "$MTASTREAM" "${opts[@]}" consume "$@"; }

topic=fleet-$$-$RANDOM
mkdir "$T/data"
model generate "$T/data" 120000 6 31 --spread
load_topic "$topic" 6 "$T/data"
"$MTASTREAM" "${opts[@]}" consume -t "$topic" -G "ref-$topic" --lake-dir "$T/ref" -e -q || true
sums "$T/ref" >"$T/ref.sha"

for ((trial = 1; trial <= trials; trial++)); do
  lake=$T/lake-$trial group=g$trial-$topic
  pids=()
  for m in 1 2 3; do
    member -t "$topic" -G "$group" --lake-dir "$lake" -e -q >/dev/null 2>"$T/m$m.err" &
    pids+=($!)
  done
  cleanup_hooks+=("kill -9 ${pids[*]} 2>/dev/null")
  sleep 0.9
  kill -9 "${pids[0]}" 2>/dev/null || true
  sleep 0.5
  member -t "$topic" -G "$group" --lake-dir "$lake" -e -q >/dev/null 2>"$T/m4.err" &
  pids+=($!)
  codes=""
  for i in 1 2 3; do
    code=0; wait "${pids[$i]}" || code=$?
    codes+=" $code"
    if { [ "$code" = 0 ] || [ "$code" = 3 ]; } && [ "$(sums "$lake" | md5sum)" != "$(md5sum <"$T/ref.sha")" ]; then
      fail "trial $trial: a member exited $code with the lake incomplete ($(ls "$lake" | wc -l) of $(wc -l <"$T/ref.sha") files)"
    fi
  done
  wait "${pids[0]}" 2>/dev/null || true
  echo "trial $trial: survivors exited$codes"
done
[ "$failures" -eq 0 ] && pass "$trials trials: no member reported done with a partition unread"
finish
