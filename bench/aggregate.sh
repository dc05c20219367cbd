#!/usr/bin/env bash
# `mtastream aggregate` side by side in one run (warm page cache) on the same synthetic file: `-o -` and
# `--lake-dir` (gzip files written durably) against mawk doing the same 5-minute tumbling group-by and
# against `wc -l` (the scan limit: reading the lines and nothing else); then the same from `.gz` inputs,
# one member (gzip(1)) and one member per 100,000 lines (as pandas writes), against zcat | wc -l / mawk.
# mtastream runs with --threads 1 (one engine on the reading thread) and with all cores (THREADS), and
# the all-threads output must equal the one-thread output byte for byte.
# Prints wall and CPU seconds (best of RUNS each), msgs/s and the ratios.
# Usage: bench/aggregate.sh [MTASTREAM_BINARY]
# env: N (messages, default 3000000), KEYS (turnstiles, 5000), RUNS (best of, default 3), GZ (0: skip .gz),
#      JSON (0: skip the JSON-object form), THREADS (the "all threads" runs, default: nproc)
set -euo pipefail
MTASTREAM=${1:-${MTASTREAM:-build/mtastream}}
N=${N:-3000000}
KEYS=${KEYS:-5000}
RUNS=${RUNS:-3}
THREADS=${THREADS:-$(nproc)}
command -v mawk >/dev/null || { echo "mawk is needed (scripts/install-test-deps.sh)" >&2; exit 1; }
[ -x "$MTASTREAM" ] || { echo "no binary at $MTASTREAM (make build)" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/mtastream-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# N events from KEYS turnstiles, about 140 per second of event time, in time order with a little
# jitter (well inside the watermark), unique UUID-shaped IDs, plain 13-field CSV.
mawk -v n="$N" -v keys="$KEYS" 'BEGIN {
  base = 1695427200  # 2023-09-23 00:00:00
  split("IRT IND BMT", divs, " ")
  for (i = 0; i < n; i++) {
    k = (i * 7919) % keys
    t = base + 60 + int(i / 140) - (i % 3)
    s = t - base; d = 23 + int(s / 86400); s %= 86400
    hh = int(s / 3600); mm = int(s % 3600 / 60); ss = s % 60
    printf "R%04d,R%03d,%02d-00-%02d,Station-%d,456NQR,%s,09-%02d-23,%02d:%02d:%02d,REGULAR,%d,%d,%08d-0000-4000-8000-%012d,2023-09-%02d %02d:%02d:%02d\n",
      k % 1000, k % 400, int(k / 1000), k % 10, k % 379, divs[k % 3 + 1], d, hh, mm, ss, 5 + i % 6, 5 + i % 5,
      i % 100000000, i, d, hh, mm, ss
  }
}' >"$dir/events.csv"
bytes=$(stat -c %s "$dir/events.csv")
cat "$dir/events.csv" >/dev/null  # warm

calc() { mawk "BEGIN { printf \"%.6f\", $1 }"; }

# The peer: the same group-by (CA,UNIT,SCP,STATION,LINENAME,DIVISION,DESC, 5-minute window) in mawk.
awk_prog='{
  m = substr($13, 15, 2); w = substr($13, 1, 14) sprintf("%02d", m - m % 5)
  k = $1 FS $2 FS $3 FS $4 FS $5 FS $6 FS $9 FS w
  en[k] += $10; ex[k] += $11
}
END { for (k in en) print k FS en[k] FS ex[k] }'

# Each run: wall seconds, then CPU seconds (user + sys, all processes of a pipeline): on a busy machine
# CPU time is the fair "one core" figure, wall time the one a user waits for. Best of RUNS runs.
timed() {  # timed NAME COMMAND...: runs it, keeps the best NAME_wall and NAME_cpu
  local name=$1 TIMEFORMAT='%R %U %S' t w u s cpu best_w best_c
  shift
  t=$( { time "$@" ; } 2>&1 >/dev/null | tail -1 ) || { echo "$name failed" >&2; exit 1; }
  read -r w u s <<<"$t"
  cpu=$(calc "$u + $s")
  best_w=${name}_wall best_c=${name}_cpu
  if [ -z "${!best_w:-}" ] || [ "$(calc "$w < ${!best_w}")" = 1.000000 ]; then printf -v "$best_w" '%s' "$w"; fi
  if [ -z "${!best_c:-}" ] || [ "$(calc "$cpu < ${!best_c}")" = 1.000000 ]; then printf -v "$best_c" '%s' "$cpu"; fi
}
run_wc() { wc -l "$dir/events.csv" >"$dir/wc.out"; }
run_mawk() { mawk -F, "$awk_prog" "$dir/events.csv" >"$dir/mawk.out"; }
run_out() { "$MTASTREAM" -q aggregate --threads 1 --window 5m -o - "$dir/events.csv" >"$dir/mtastream.out"; }
run_lake() { rm -rf "$dir/lake"; "$MTASTREAM" -q aggregate --threads 1 --window 5m --lake-dir "$dir/lake" "$dir/events.csv"; }
run_outN() { "$MTASTREAM" -q aggregate --threads "$THREADS" --window 5m -o - "$dir/events.csv" >"$dir/mtastream-n.out"; }
run_lakeN() { rm -rf "$dir/lake-n"; "$MTASTREAM" -q aggregate --threads "$THREADS" --window 5m --lake-dir "$dir/lake-n" "$dir/events.csv"; }
run_gz_wc() { zcat "$dir/events.csv.gz" | wc -l >/dev/null; }
run_gz_mawk() { zcat "$dir/events.csv.gz" | mawk -F, "$awk_prog" >/dev/null; }
run_gz_lake() { rm -rf "$dir/lake-gz"; "$MTASTREAM" -q aggregate --threads 1 --window 5m --name events --lake-dir "$dir/lake-gz" "$dir/events.csv.gz"; }
run_gz_lakeN() { rm -rf "$dir/lake-gzn"; "$MTASTREAM" -q aggregate --threads "$THREADS" --window 5m --name events --lake-dir "$dir/lake-gzn" "$dir/events.csv.gz"; }
run_gzm_lake() { rm -rf "$dir/lake-gzm"; "$MTASTREAM" -q aggregate --threads 1 --window 5m --name events --lake-dir "$dir/lake-gzm" "$dir/events-members.csv.gz"; }
plain=(wc mawk out lake outN lakeN)
gz=()
if [ "${GZ:-1}" = 1 ]; then
  gzip -6 -c "$dir/events.csv" >"$dir/events.csv.gz"
  split -l 100000 --filter='gzip -6 -c' "$dir/events.csv" >"$dir/events-members.csv.gz"
  gz=(gz_wc gz_mawk gz_lake gz_lakeN gzm_lake)
fi
for run in $(seq "$RUNS"); do
  for job in "${plain[@]}" "${gz[@]}"; do timed "$job" "run_$job"; done
done

# Sanity: both saw the same groups and the same totals.
awk_rows=$(wc -l <"$dir/mawk.out")
mta_rows=$(($(wc -l <"$dir/mtastream.out") - 1))
awk_sum=$(mawk -F, '{ s += $(NF-1) } END { printf "%d", s }' "$dir/mawk.out")
mta_sum=$(mawk -F, 'NR > 1 { s += $(NF-1) } END { printf "%d", s }' "$dir/mtastream.out")
if [ "$awk_rows" != "$mta_rows" ] || [ "$awk_sum" != "$mta_sum" ]; then
  echo "MISMATCH: mawk $awk_rows rows / entries $awk_sum, mtastream $mta_rows rows / entries $mta_sum" >&2
  exit 1
fi

# The lake holds the same rows as the stream, and the .gz inputs give the same lake.
lake_rows=$(for f in "$dir"/lake/*.csv.gz; do zcat "$f" | tail -n +2; done | wc -l)
[ "$lake_rows" = "$mta_rows" ] || { echo "MISMATCH: lake $lake_rows rows, stream $mta_rows" >&2; exit 1; }
cmp -s "$dir/mtastream.out" "$dir/mtastream-n.out" || { echo "MISMATCH: -o - with --threads $THREADS differs" >&2; exit 1; }
diff -r "$dir/lake" "$dir/lake-n" >/dev/null || { echo "MISMATCH: the lake with --threads $THREADS differs" >&2; exit 1; }
lake_files=$(ls "$dir/lake" | wc -l)
lake_bytes=$(du -sb "$dir/lake" | cut -f1)
if [ ${#gz[@]} -gt 0 ]; then
  for d in lake-gz lake-gzn lake-gzm; do diff -r "$dir/lake" "$dir/$d" >/dev/null || { echo "MISMATCH: $d differs from lake" >&2; exit 1; }; done
fi

printf 'input: %d messages, %d bytes, %d turnstiles, 5-minute tumbling windows, %d output rows; lake: %d files, %d bytes; best of %d runs\n' \
  "$N" "$bytes" "$KEYS" "$mta_rows" "$lake_files" "$lake_bytes" "$RUNS"
[ ${#gz[@]} -gt 0 ] && printf '.gz inputs: %d bytes (one member), %d bytes (a member per 100,000 lines)\n' \
  "$(stat -c %s "$dir/events.csv.gz")" "$(stat -c %s "$dir/events-members.csv.gz")"
row() {  # row LABEL NAME MAWK WC
  local w=${2}_wall c=${2}_cpu mw=${3}_wall mc=${3}_cpu ww=${4}_wall
  printf '%-50s %7.3f %7.3f %10.2f %10.2f %9.2fx %9.2fx %14.2f\n' "$1" "${!w}" "${!c}" "$(calc "$N / ${!w} / 1e6")" \
    "$(calc "$N / ${!c} / 1e6")" "$(calc "${!mw} / ${!w}")" "$(calc "${!mc} / ${!c}")" "$(calc "${!ww} / ${!w}")"
}
printf '%-50s %7s %7s %10s %10s %10s %10s %14s\n' "" "wall s" "cpu s" "M/s wall" "M/s cpu" "vs mawk" "(cpu)" "of wc -l speed"
row "wc -l (the scan limit)" wc mawk wc
row "mawk group-by" mawk mawk wc
row "mtastream aggregate -o -, 1 thread" out mawk wc
row "mtastream aggregate --lake-dir, 1 thread" lake mawk wc
row "mtastream aggregate -o -, $THREADS threads" outN mawk wc
row "mtastream aggregate --lake-dir, $THREADS threads" lakeN mawk wc
if [ ${#gz[@]} -gt 0 ]; then
  row "zcat .gz | wc -l" gz_wc gz_mawk gz_wc
  row "zcat .gz | mawk group-by" gz_mawk gz_mawk gz_wc
  row "mtastream --lake-dir .gz (one member), 1 thread" gz_lake gz_mawk gz_wc
  row "mtastream --lake-dir .gz (one member), $THREADS thr." gz_lakeN gz_mawk gz_wc
  row "mtastream --lake-dir .gz (member per 100k lines)" gzm_lake gz_mawk gz_wc
fi
printf 'ratios: --lake-dir %.2fx mawk (wall), %.2fx (cpu); -o - %.2fx mawk (wall); --lake-dir at %.2f of wc -l speed, -o - at %.2f\n' \
  "$(calc "$mawk_wall / $lake_wall")" "$(calc "$mawk_cpu / $lake_cpu")" "$(calc "$mawk_wall / $out_wall")" \
  "$(calc "$wc_wall / $lake_wall")" "$(calc "$wc_wall / $out_wall")"
printf 'ratios: %d threads vs 1 thread (wall): -o - %.2fx, --lake-dir %.2fx (target >= 1.7x on 2 cores); 1-thread --lake-dir %.2fx mawk (target >= 8x)\n' \
  "$THREADS" "$(calc "$out_wall / $outN_wall")" "$(calc "$lake_wall / $lakeN_wall")" "$(calc "$mawk_wall / $lake_wall")"

# The JSON-object wire form on a slice of the same events (simdjson path).
if [ "${JSON:-1}" = 1 ]; then
  jn=$((N < 1000000 ? N : 1000000))
  head -n "$jn" "$dir/events.csv" | mawk -F, '{
    printf "{\"CA\":\"%s\",\"UNIT\":\"%s\",\"SCP\":\"%s\",\"STATION\":\"%s\",\"LINENAME\":\"%s\",\"DIVISION\":\"%s\",\"DATE\":\"%s\",\"TIME\":\"%s\",\"DESC\":\"%s\",\"ENTRIES\":%s,\"EXITS\":%s,\"ID\":\"%s\",\"TIMESTAMP\":\"%s\"}\n",
      $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }' >"$dir/events.ndjson"
  cat "$dir/events.ndjson" >/dev/null
  run_json() { "$MTASTREAM" -v aggregate --window 5m -o - "$dir/events.ndjson" 2>"$dir/json.err"; }
  json_wall="" json_cpu=""
  timed json run_json
  kernel=$(sed -n 's/.*simdjson kernel: \([a-z0-9_]*\).*/\1/p' "$dir/json.err" | head -1)
  printf 'json form: %d messages, %.3f s wall, %.3f s cpu, %.2f M msgs/s cpu (simdjson kernel: %s)\n' "$jn" \
    "$json_wall" "$json_cpu" "$(calc "$jn / $json_cpu / 1e6")" "${kernel:-unknown}"
fi
