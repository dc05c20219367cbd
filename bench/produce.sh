#!/usr/bin/env bash
# produce from a file vs `kcat -P` on the same file and the same real Kafka broker, in one run.
# Both with the same keys, guarantees (idempotent, acks=all) and compression; mtastream also validates
# every line. Wall-clock times on a shared machine are noisy: the best of several runs is compared.
# usage: bench/produce.sh [MTASTREAM_BINARY]
# env: LINES (default 2000000), RUNS (default 5, best of), COMPRESSION (default lz4),
#      BOOTSTRAP (use this broker instead of starting scripts/kafka-local.sh in a scratch dir)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mtastream=${1:-$here/build/mtastream}
lines=${LINES:-2000000} runs=${RUNS:-5} compression=${COMPRESSION:-lz4}
[ -x "$mtastream" ] || { echo "no binary at $mtastream (make build)" >&2; exit 2; }
command -v kcat >/dev/null || { echo "kcat missing: scripts/install-test-deps.sh" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mtastream-bench.XXXXXX")
started_broker=""
cleanup() {
  [ -n "$started_broker" ] && "$here/scripts/kafka-local.sh" stop --dir "$work/kafka" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${BOOTSTRAP:-}" ]; then
  "$here/scripts/kafka-local.sh" start --dir "$work/kafka" --env-file "$work/kafka.env"
  started_broker=1
  # shellcheck disable=SC1091
  source "$work/kafka.env"
fi

# Realistic messages: the original's 13 fields, many turnstiles, unique IDs.
awk -v n="$lines" 'BEGIN{srand(1); for(i=1;i<=n;i++) printf "A%03d,R%03d,%02d-00-%02d,Station %d,456NQR,BMT,09-23-23,%02d:%02d:00,REGULAR,%d,%d,%08x-0000-4000-8000-%012d,2023-09-23 %02d:%02d:00\n", i%400, i%300, i%5, i%13, i%380, (i/3600)%24, (i/60)%60, int(rand()*10), int(rand()*10), i, i, (i/3600)%24, (i/60)%60}' >"$work/in.csv"
# kcat gets the same keys mtastream derives (CA,UNIT,SCP), so both put the same messages in the same
# partitions; mtastream parses and validates each line to find its key, kcat just splits at '|'.
awk -F, '{print $1","$2","$3"|"$0}' "$work/in.csv" >"$work/in.keyed"
bytes=$(wc -c <"$work/in.csv")
echo "input: $lines lines, $bytes bytes; broker $BOOTSTRAP; compression $compression; best of $runs runs"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b - a}'; }
less() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a < b)}'; }
run_kcat() {
  local start; start=$(now)
  kcat -b "$BOOTSTRAP" -P -t "$1" -K '|' -z "$compression" -X enable.idempotence=true -X acks=all -l "$work/in.keyed"
  kcat_seconds=$(elapsed "$start")
}
run_mtastream() {
  local start; start=$(now)
  "$mtastream" -b "$BOOTSTRAP" -q produce -t "$1" -z "$compression" "$work/in.csv"
  mta_seconds=$(elapsed "$start")
}
count_topic() { kcat -b "$BOOTSTRAP" -C -t "$1" -e -q -f 'x\n' | wc -l; }
best_kcat="" best_mtastream=""
for run in $(seq "$runs"); do
  t_kcat=bench-kcat-$$-$run t_mta=bench-mtastream-$$-$run
  "$mtastream" -b "$BOOTSTRAP" -q topic create "$t_kcat" -p 4 -r 1
  "$mtastream" -b "$BOOTSTRAP" -q topic create "$t_mta" -p 4 -r 1

  # Alternate who goes first, so neither always meets a warmer (or busier) broker.
  if [ $((run % 2)) -eq 1 ]; then run_kcat "$t_kcat"; run_mtastream "$t_mta"; else run_mtastream "$t_mta"; run_kcat "$t_kcat"; fi

  printf 'run %d: kcat -P %.2f s, mtastream produce %.2f s\n' "$run" "$kcat_seconds" "$mta_seconds"
  if [ "$run" -eq 1 ]; then
    n_kcat=$(count_topic "$t_kcat") n_mta=$(count_topic "$t_mta")
    [ "$n_kcat" -eq "$lines" ] && [ "$n_mta" -eq "$lines" ] ||
      { echo "read-back mismatch: kcat topic $n_kcat, mtastream topic $n_mta, expected $lines" >&2; exit 1; }
  fi
  if [ -z "$best_kcat" ] || less "$kcat_seconds" "$best_kcat"; then best_kcat=$kcat_seconds; fi
  if [ -z "$best_mtastream" ] || less "$mta_seconds" "$best_mtastream"; then best_mtastream=$mta_seconds; fi
  "$mtastream" -b "$BOOTSTRAP" -q topic delete "$t_kcat" >/dev/null 2>&1 || true
  "$mtastream" -b "$BOOTSTRAP" -q topic delete "$t_mta" >/dev/null 2>&1 || true
done

kcat_rate=$(awk -v n="$lines" -v s="$best_kcat" 'BEGIN{printf "%d", n / s}')
mta_rate=$(awk -v n="$lines" -v s="$best_mtastream" 'BEGIN{printf "%d", n / s}')
ratio=$(awk -v k="$best_kcat" -v m="$best_mtastream" 'BEGIN{printf "%.2f", k / m}')
echo "kcat -P:           $kcat_rate msg/s (best ${best_kcat}s)"
echo "mtastream produce: $mta_rate msg/s (best ${best_mtastream}s), validating every line"
echo "ratio mtastream/kcat: ${ratio}x (target >= 0.9x)"
