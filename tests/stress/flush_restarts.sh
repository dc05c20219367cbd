#!/usr/bin/env bash
# Stress (not in CI; group_partition.sh has the short version): `consume -e --flush-open` killed with SIGKILL
# at random moments and restarted, six times per trial, then run to the end: the partitioned tree must be
# byte-identical to one uninterrupted run's. Quick kills leave dead members in the group (their sessions
# live 6 s), so the last run starts with only some partitions: it must wait for the rest, not exit without
# their windows. LOAD=N busy loops alongside make the races likelier (2 of 20 trials failed before the fix).
# usage: scripts/test-server.sh start kafka build/test-state
#        MTASTREAM=build/mtastream MTASTREAM_SOURCE_DIR=. MTASTREAM_TEST_STATE=build/test-state \
#          TRIALS=20 LOAD=3 bash tests/stress/flush_restarts.sh
source "$(dirname "$0")/../integration/lib.sh"
need kafka
cd "$T"
for ((i = 0; i < ${LOAD:-0}; i++)); do sh -c 'while :; do :; done' & cleanup_hooks+=("kill $! 2>/dev/null"); done
topic=flush-$$-$RANDOM
mkdir data
model generate "$T/data" 60000 4 11 --spread
load_topic "$topic" 4 "$T/data"
second=(--group-by STATION --window 4h --partition-by date,hour,station)
consume -t "$topic" -G "ref-$topic" --lake-dir "$T/ref" "${second[@]}" -e --flush-open -q || true
tree_sums() { (cd "$1" && find . -path ./.mtastream -prune -o -type f -name '*.csv.gz' -print | sort | xargs -d '\n' sha256sum); }
tree_sums "$T/ref" >ref.sums
for trial in $(seq "${TRIALS:-20}"); do
  lake=$T/lake-$trial
  mkdir -p "$lake"
  files() { local n; n=$(find "$lake" -type f | wc -l) || true; echo "${n:-0}"; }
  for i in 1 2 3 4 5 6; do
    consume_exec -t "$topic" -G "crash-$trial-$topic" --lake-dir "$lake" "${second[@]}" -e --flush-open -q >/dev/null 2>&1 &
    pid=$!
    target=$(( $(files) + 1 + RANDOM % 30 )) polls=$(( 1 + RANDOM % 40 ))
    while kill -0 "$pid" 2>/dev/null && [ "$(files)" -lt "$target" ] && [ "$polls" -gt 0 ]; do sleep 0.02; polls=$((polls - 1)); done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  code=0
  consume -t "$topic" -G "crash-$trial-$topic" --lake-dir "$lake" "${second[@]}" -e --flush-open -q >/dev/null 2>"$T/final.err" || code=$?
  tree_sums "$lake" >trial.sums
  if { [ "$code" = 0 ] || [ "$code" = 3 ]; } && cmp -s ref.sums trial.sums; then pass "trial $trial: the same tree"; else
    fail "trial $trial: exit $code, $(diff ref.sums trial.sums | grep -c '^[<>]') files differ"; tail -3 "$T/final.err" >&2; fi
done
finish
