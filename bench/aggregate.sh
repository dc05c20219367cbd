#!/usr/bin/env bash
# Times `mtastream aggregate` against mawk doing the same 5-minute tumbling group-by on the same
# synthetic file in the same run (warm page cache), and prints msgs/s for both and their ratio.
# Usage: bench/aggregate.sh [MTASTREAM_BINARY]   env: N (messages, default 3000000), KEYS (turnstiles, 5000)
set -euo pipefail
MTASTREAM=${1:-${MTASTREAM:-build/mtastream}}
N=${N:-3000000}
KEYS=${KEYS:-5000}
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

# Each run: wall seconds, then CPU seconds (user + sys): on a busy machine CPU time is the fair
# "one core" figure, wall time the one a user waits for.
timed() {  # timed NAME COMMAND...: runs it, sets NAME_wall and NAME_cpu
  local name=$1 TIMEFORMAT='%R %U %S' t
  shift
  t=$( { time "$@" ; } 2>&1 >/dev/null | tail -1 ) || { echo "$name failed" >&2; exit 1; }
  read -r w u s <<<"$t"
  printf -v "${name}_wall" '%s' "$w"
  printf -v "${name}_cpu" '%s' "$(calc "$u + $s")"
}
run_mawk() { mawk -F, "$awk_prog" "$dir/events.csv" >"$dir/mawk.out"; }
run_mtastream() { "$MTASTREAM" -q aggregate --window 5m -o - "$dir/events.csv" >"$dir/mtastream.out"; }
timed awk run_mawk
timed mta run_mtastream

# Sanity: both saw the same groups and the same totals.
awk_rows=$(wc -l <"$dir/mawk.out")
mta_rows=$(($(wc -l <"$dir/mtastream.out") - 1))
awk_sum=$(mawk -F, '{ s += $(NF-1) } END { printf "%d", s }' "$dir/mawk.out")
mta_sum=$(mawk -F, 'NR > 1 { s += $(NF-1) } END { printf "%d", s }' "$dir/mtastream.out")
if [ "$awk_rows" != "$mta_rows" ] || [ "$awk_sum" != "$mta_sum" ]; then
  echo "MISMATCH: mawk $awk_rows rows / entries $awk_sum, mtastream $mta_rows rows / entries $mta_sum" >&2
  exit 1
fi

printf 'input: %d messages, %d bytes, %d turnstiles, 5-minute tumbling windows, %d output rows\n' "$N" "$bytes" "$KEYS" "$mta_rows"
printf '%-10s %8s %8s %14s %14s\n' "" "wall s" "cpu s" "M msgs/s wall" "M msgs/s cpu"
printf '%-10s %8.3f %8.3f %14.2f %14.2f\n' mawk "$awk_wall" "$awk_cpu" "$(calc "$N / $awk_wall / 1e6")" "$(calc "$N / $awk_cpu / 1e6")"
printf '%-10s %8.3f %8.3f %14.2f %14.2f\n' mtastream "$mta_wall" "$mta_cpu" "$(calc "$N / $mta_wall / 1e6")" "$(calc "$N / $mta_cpu / 1e6")"
printf 'ratio: %.2fx mawk (wall), %.2fx mawk (cpu)\n' "$(calc "$awk_wall / $mta_wall")" "$(calc "$awk_cpu / $mta_cpu")"

# The JSON-object wire form on a slice of the same events (simdjson path).
if [ "${JSON:-1}" = 1 ]; then
  jn=$((N < 1000000 ? N : 1000000))
  head -n "$jn" "$dir/events.csv" | mawk -F, '{
    printf "{\"CA\":\"%s\",\"UNIT\":\"%s\",\"SCP\":\"%s\",\"STATION\":\"%s\",\"LINENAME\":\"%s\",\"DIVISION\":\"%s\",\"DATE\":\"%s\",\"TIME\":\"%s\",\"DESC\":\"%s\",\"ENTRIES\":%s,\"EXITS\":%s,\"ID\":\"%s\",\"TIMESTAMP\":\"%s\"}\n",
      $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }' >"$dir/events.ndjson"
  cat "$dir/events.ndjson" >/dev/null
  run_json() { "$MTASTREAM" -v aggregate --window 5m -o - "$dir/events.ndjson" 2>"$dir/json.err"; }
  timed json run_json
  kernel=$(sed -n 's/.*simdjson kernel: \([a-z0-9_]*\).*/\1/p' "$dir/json.err" | head -1)
  printf 'json form: %d messages, %.3f s wall, %.3f s cpu, %.2f M msgs/s cpu (simdjson kernel: %s)\n' "$jn" \
    "$json_wall" "$json_cpu" "$(calc "$jn / $json_cpu / 1e6")" "${kernel:-unknown}"
fi
