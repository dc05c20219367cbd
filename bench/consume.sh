#!/usr/bin/env bash
# consume to the lake (--threads 1 and --threads N) vs `kcat -C -e` reading the same topic from the same real Kafka broker, in one run,
# kcat as it comes and with the prefetch settings consume uses; peak RSS (VmHWM, sampled) of both, and of
# mtastream for the whole topic vs a tenth of it (memory must not grow with messages).
# mtastream does the full job: group join, parse + validate every message, windows, gzip lake files
# written durably (fsync + rename), offset commits; kcat only prints the values to /dev/null.
# Wall-clock times on a shared machine are noisy: the best of several runs is compared.
# usage: bench/consume.sh [MTASTREAM_BINARY]
# env: MESSAGES (default 10000000; e.g. 1000000 for a quick run), RUNS (default 3, best of), THREADS (the
#      --threads run besides --threads 1; default nproc),
#      PARTITIONS (default 4), BOOTSTRAP (use this broker instead of starting scripts/kafka-local.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mtastream=${1:-$here/build/mtastream}
messages=${MESSAGES:-10000000} runs=${RUNS:-3} partitions=${PARTITIONS:-4}
[ -x "$mtastream" ] || { echo "no binary at $mtastream (make build)" >&2; exit 2; }
command -v kcat >/dev/null || { echo "kcat missing: scripts/install-test-deps.sh" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing (apt-get install time)" >&2; exit 2; }

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

# The original's 13 fields, 4000 turnstiles, unique IDs; event time advances 1 s every 50 messages
# (5-minute windows of ~15000 messages, ~1000 rows each).
gen() {
  awk -v n="$1" 'BEGIN{srand(1); for(i=0;i<n;i++){t=1695427200+int(i/50); s=t%86400;
    printf "A%03d,R%03d,%02d-00-%02d,Station %d,456NQR,BMT,09-23-23,%02d:%02d:%02d,REGULAR,%d,%d,%08x-0000-4000-8000-%012d,2023-%02d-%02d %02d:%02d:%02d\n",
      i%400, i%10, i%5, i%2, i%400, int(s/3600), int(s/60)%60, s%60, int(rand()*10), int(rand()*10), i, i,
      9 + int((23 + int((t-1695427200)/86400)) / 31), 1 + (22 + int((t-1695427200)/86400)) % 30 + 0, int(s/3600), int(s/60)%60, s%60}}'
}
topic=bench-consume-$$ small=bench-consume-small-$$
"$mtastream" -b "$BOOTSTRAP" -q topic create "$topic" -p "$partitions"
"$mtastream" -b "$BOOTSTRAP" -q topic create "$small" -p "$partitions"
gen "$messages" | "$mtastream" -b "$BOOTSTRAP" -q produce -t "$topic" -z lz4 -
gen $((messages / 10)) | "$mtastream" -b "$BOOTSTRAP" -q produce -t "$small" -z lz4 -
echo "topic: $messages messages in $partitions partitions (and $((messages / 10)) for the memory check); broker $BOOTSTRAP; best of $runs runs"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b - a}'; }
less() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a < b)}'; }
# Peak RSS of a running process: VmHWM from /proc/PID/status, sampled every 0.2 s until it exits.
# watch_hwm PID OUT: appends each sample (KB) to OUT.
watch_hwm() {
  while kill -0 "$1" 2>/dev/null; do
    awk '/^VmHWM/{print $2}' "/proc/$1/status" 2>/dev/null >>"$2" || true
    sleep 0.2
  done
}
peak_of() { sort -n "$1" | tail -1; }
# The prefetch settings consume uses by default (src/kafka/consumer.cpp set_prefetch_defaults): with
# librdkafka >= 2.4 a 4 MiB queue and a 10 ms wait when it is full; before 2.4 (Debian's kcat links
# 2.0.2) only the deep queue, because 2.0.x waits a fixed second once a queue is full.
kcat_lib=$(kcat -V 2>&1 | sed -n 's/.*librdkafka \([0-9.]*\).*/\1/p' | head -1)
same_prefetch=(-X queued.min.messages=1000000)
if [ "$(printf '%s\n2.4.0\n' "$kcat_lib" | sort -V | head -1)" = 2.4.0 ]; then
  same_prefetch+=(-X queued.max.messages.kbytes=4096 -X fetch.queue.backoff.ms=10)
fi
# kcat as it comes, and kcat with the prefetch settings mtastream's consume uses; both print the values
# to /dev/null. Sets kcat_seconds, kcat_deep_seconds and kcat_deep_rss_kb.
run_kcat() {
  local start pid; start=$(now)
  kcat -b "$BOOTSTRAP" -C -t "$topic" -e -q -o beginning -f '%s\n' >/dev/null
  kcat_seconds=$(elapsed "$start")
  start=$(now)
  : >"$work/kcat-hwm.txt"
  kcat -b "$BOOTSTRAP" -C -t "$topic" -e -q -o beginning -f '%s\n' "${same_prefetch[@]}" >/dev/null &
  pid=$!
  watch_hwm "$pid" "$work/kcat-hwm.txt"
  wait "$pid"
  kcat_deep_seconds=$(elapsed "$start")
  kcat_deep_rss_kb=$(peak_of "$work/kcat-hwm.txt")
}
threads=${THREADS:-$(nproc)}
# consume TOPIC COUNT [THREADS]: sets mta_seconds and mta_rss_kb (peak RSS from /usr/bin/time -v); checks what it read.
# Also samples RSS every 0.2 s (mta_rss_curve: RSS in MB at each tenth of the run) to show it plateaus.
run_mtastream() {
  local start lake=$work/lake-$RANDOM pid; start=$(now)
  /usr/bin/time -v -o "$work/time.txt" "$mtastream" -b "$BOOTSTRAP" -q consume -t "$1" -G "bench-$RANDOM-$$" \
    --threads "${3:-1}" --lake-dir "$lake" -e --json >"$work/summary.json" &
  local timer=$!
  : >"$work/rss.txt"
  : >"$work/hwm.txt"
  while kill -0 "$timer" 2>/dev/null; do
    pid=$(pgrep -P "$timer" -n 2>/dev/null || true)
    [ -n "$pid" ] && awk '/^VmRSS/{print $2 >>"'"$work/rss.txt"'"} /^VmHWM/{print $2 >>"'"$work/hwm.txt"'"}' "/proc/$pid/status" 2>/dev/null || true
    sleep 0.2
  done
  wait "$timer"
  mta_hwm_kb=$(peak_of "$work/hwm.txt")
  mta_seconds=$(elapsed "$start")
  mta_rss_curve=$(awk '{v[NR]=$1} END{for(i=1;i<=10;i++){j=int(NR*i/10); if(j<1)j=1; printf "%s%d", (i>1?" ":""), v[j]/1024}}' "$work/rss.txt")
  mta_rss_kb=$(awk -F': ' '/Maximum resident set size/{print $2}' "$work/time.txt")
  [ -n "$mta_hwm_kb" ] && [ "$mta_hwm_kb" -gt "$mta_rss_kb" ] && mta_rss_kb=$mta_hwm_kb
  grep -q "\"read\":$2," "$work/summary.json" || { echo "mtastream read a wrong count: $(cat "$work/summary.json")" >&2; exit 1; }
  mta_files=$(find "$lake" -name '*.csv.gz' | wc -l)
  rm -rf "$lake"
}
best_kcat="" best_kcat_deep="" best_mta="" best_mta_n="" peak_rss=0
for run in $(seq "$runs"); do
  if [ $((run % 2)) -eq 1 ]; then
    run_kcat; run_mtastream "$topic" "$messages" 1; one=$mta_seconds one_files=$mta_files one_rss=$mta_rss_kb
    run_mtastream "$topic" "$messages" "$threads"
  else
    run_mtastream "$topic" "$messages" "$threads"; n_seconds=$mta_seconds n_files=$mta_files n_rss=$mta_rss_kb
    run_mtastream "$topic" "$messages" 1; one=$mta_seconds one_files=$mta_files one_rss=$mta_rss_kb
    mta_seconds=$n_seconds mta_files=$n_files mta_rss_kb=$n_rss
    run_kcat
  fi
  printf 'run %d: kcat -C %.2f s, kcat -C (same prefetch) %.2f s (peak RSS %d MB), mtastream consume --threads 1 %.2f s (%d lake files, peak RSS %d MB), --threads %d %.2f s (%d lake files, peak RSS %d MB)\n' \
    "$run" "$kcat_seconds" "$kcat_deep_seconds" $((kcat_deep_rss_kb / 1024)) "$one" "$one_files" $((one_rss / 1024)) \
    "$threads" "$mta_seconds" "$mta_files" $((mta_rss_kb / 1024))
  [ "$one_files" -eq "$mta_files" ] || { echo "--threads $threads wrote $mta_files lake files, --threads 1 $one_files" >&2; exit 1; }
  [ "$mta_rss_kb" -gt "$peak_rss" ] && peak_rss=$mta_rss_kb
  [ "$one_rss" -gt "$peak_rss" ] && peak_rss=$one_rss
  if [ -z "$best_kcat" ] || less "$kcat_seconds" "$best_kcat"; then best_kcat=$kcat_seconds; fi
  if [ -z "$best_kcat_deep" ] || less "$kcat_deep_seconds" "$best_kcat_deep"; then best_kcat_deep=$kcat_deep_seconds; fi
  if [ -z "$best_mta" ] || less "$one" "$best_mta"; then best_mta=$one; fi
  if [ -z "$best_mta_n" ] || less "$mta_seconds" "$best_mta_n"; then best_mta_n=$mta_seconds; fi
done
run_mtastream "$small" $((messages / 10))
small_rss=$mta_rss_kb small_curve=$mta_rss_curve

kcat_rate=$(awk -v n="$messages" -v s="$best_kcat" 'BEGIN{printf "%d", n / s}')
mta_rate=$(awk -v n="$messages" -v s="$best_mta" 'BEGIN{printf "%d", n / s}')
ratio=$(awk -v k="$best_kcat" -v m="$best_mta" 'BEGIN{printf "%.2f", k / m}')
deep_rate=$(awk -v n="$messages" -v s="$best_kcat_deep" 'BEGIN{printf "%d", n / s}')
deep_ratio=$(awk -v k="$best_kcat_deep" -v m="$best_mta" 'BEGIN{printf "%.2f", k / m}')
echo "kcat -C -e:        $kcat_rate msg/s (best ${best_kcat}s)"
echo "kcat -C -e, same prefetch (${same_prefetch[*]}; kcat's librdkafka $kcat_lib): $deep_rate msg/s (best ${best_kcat_deep}s)"
n_rate=$(awk -v n="$messages" -v s="$best_mta_n" 'BEGIN{printf "%d", n / s}')
n_ratio=$(awk -v k="$best_kcat_deep" -v m="$best_mta_n" 'BEGIN{printf "%.2f", k / m}')
speedup=$(awk -v a="$best_mta" -v b="$best_mta_n" 'BEGIN{printf "%.2f", a / b}')
echo "mtastream consume --threads 1: $mta_rate msg/s (best ${best_mta}s), windows + durable lake files + commits; $("$mtastream" --version)"
echo "mtastream consume --threads $threads: $n_rate msg/s (best ${best_mta_n}s): ${speedup}x --threads 1"
echo "ratio mtastream/kcat: ${ratio}x, vs kcat with the same prefetch: ${deep_ratio}x at --threads 1, ${n_ratio}x at --threads $threads (target >= 1.2x)"
echo "peak RSS (VmHWM): $((peak_rss / 1024)) MB for $messages messages (target <= 150 MB), $((small_rss / 1024)) MB for $((messages / 10)); RSS MB at each tenth of the small run: $small_curve"
"$mtastream" -b "$BOOTSTRAP" -q topic delete "$topic" >/dev/null 2>&1 || true
"$mtastream" -b "$BOOTSTRAP" -q topic delete "$small" >/dev/null 2>&1 || true
