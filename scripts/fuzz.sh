#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in build-fuzz/ and runs
# each for FUZZ_SECONDS (default 60). FUZZ_TARGETS="message_parser config" picks some; FUZZ_JOBS runs that
# many targets at once (default 1). The working corpus grows in build-fuzz/corpus/<target> (seeded from
# tests/fuzz/corpus); a crashing input lands in build-fuzz/artifacts/<target>/: copy it to
# tests/fuzz/regressions/<target>/ so the unit tests replay it for ever. Exit 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-fuzz-deps.sh
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-1}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
all_targets=$(sed -n 's/^set(MTASTREAM_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt)
targets=${FUZZ_TARGETS:-$all_targets}

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMTASTREAM_FUZZ=ON \
    -DMTASTREAM_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" -j "${JOBS:-2}" --target $(for t in $targets; do echo "fuzz_$t"; done)

declare -A max_len=([message_parser]=4096 [mta_batch]=16384 [config]=4096 [duration]=64 [upload_url]=512
                    [line_reader]=8192)
run_one() {
  local t=$1 corpus="$BUILD/corpus/$1" artifacts="$BUILD/artifacts/$1/"
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzz_$t for ${FUZZ_SECONDS}s" >&2
  local status=0
  "$BUILD/tests/fuzz/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -max_len="${max_len[$t]:-4096}" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" "tests/fuzz/corpus/$t" \
    >"$BUILD/fuzz_$t.log" 2>&1 || status=$?
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$BUILD/fuzz_$t.log" | sed "s/^/  $t /" >&2 || true
  if [ "$status" -ne 0 ]; then
    echo "!! fuzz_$t FAILED (exit $status): see $BUILD/fuzz_$t.log; inputs in $artifacts" >&2
    grep -E 'ERROR|SUMMARY|runtime error' "$BUILD/fuzz_$t.log" | head -5 >&2 || true
    return 1
  fi
}

failed=0
running=0
for t in $targets; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$FUZZ_JOBS" ]; then wait -n || failed=1; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n || failed=1; running=$((running - 1)); done
[ "$failed" -eq 0 ] && echo "== fuzz: every target ran ${FUZZ_SECONDS}s without a finding" >&2
exit "$failed"
