#!/usr/bin/env bash
# The lake as the warehouse reads it, against a real Apache Kafka broker: one row per window and group key
# for the whole topic whatever the producers' keys (keyed by random ID here, as the original producer keys),
# checked against the independent model; --per-partition; every file final across cron-style -e runs with
# data arriving in between and SIGKILLs (a loader that takes each new file once ends with the input's
# totals); an empty partition (idle rule); a committed offset without a checkpoint refused unless --allow-gaps.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka

# --- (1) keyed by random ID: topic-wide windows --------------------------------------------------------
topic=wide-$$-$RANDOM
mkdir "$T/data"
model generate "$T/data" 120000 4 5 --spread
model expect "$T/data" 300 300 300 "$topic" turnstile
load_topic "$topic" 4 "$T/data"
expect_exit 3 "consume -e of a topic keyed by random ID (exit 3: rejected messages)" -- \
  consume -t "$topic" -G "wide-$topic" --lake-dir "$T/lake" -e --json
model compare "$T/data" "$T/lake" >"$T/compare.txt" && pass "the lake equals the topic-wide model" ||
  { fail "the lake differs from the topic-wide model"; cat "$T/compare.txt" >&2; }
cross=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cross_partition_duplicates"])' "$T/data/expected-counts.json")
[ "$cross" -gt 0 ] && pass "the data holds $cross copies of IDs in other partitions" || fail "no cross-partition copies in the data"
expect_contains "$T/out" "\"merge_duplicates\":$cross," "dedup by ID across partitions: the $cross copies dropped (summary)"
python3 - "$T/lake" <<'PY' && pass "one row per (CA,UNIT,SCP,DATE,TIME) in the whole lake" || fail "a key has several rows in a window"
import collections, gzip, os, sys
seen = collections.Counter()
for name in os.listdir(sys.argv[1]):
    if name.endswith(".csv.gz"):
        for row in gzip.open(os.path.join(sys.argv[1], name), "rt").read().splitlines()[1:]:
            f = row.split(",")
            seen[(f[1], f[2], f[3], f[7], f[8])] += 1
sys.exit(0 if seen and max(seen.values()) == 1 else 1)
PY
sums "$T/lake" >"$T/wide.sha"

# The same with mtastream's own producer keyed by ID (the issue's case), read back with kcat.
city=city-$$-$RANDOM
expect_exit 0 "topic create $city" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$city" -p 4
expect_exit 0 "produce --generate city --key id" -- "$MTASTREAM" -b "$BOOTSTRAP" produce -t "$city" --generate city \
  --turnstiles 200 --count 20000 --key id --rate 0 --start-time "2023-09-23 00:00:00" --step 5m --seed 3
expect_exit 0 "consume -e --flush-open of the city topic" -- consume -t "$city" -G "c-$city" --lake-dir "$T/city" -e --flush-open
kcat -C -b "$BOOTSTRAP" -t "$city" -e -q -f '%s\n' >"$T/city.csv"
python3 - "$T/city" "$T/city.csv" <<'PY' && pass "city topic keyed by ID: 200 rows per window, sums equal the topic's" ||
import collections, gzip, os, sys
rows, entries = collections.Counter(), 0
for name in os.listdir(sys.argv[1]):
    if name.endswith(".csv.gz"):
        for row in gzip.open(os.path.join(sys.argv[1], name), "rt").read().splitlines()[1:]:
            f = row.split(",")
            rows[(name, f[1], f[2], f[3])] += 1
            entries += int(f[10])
sent = sum(int(line.split(",")[9]) for line in open(sys.argv[2]) if line.strip())
files = len({k[0] for k in rows})
ok = max(rows.values()) == 1 and len(rows) == files * 200 and entries == sent
print("files %d, rows %d, entries %d of %d" % (files, len(rows), entries, sent))
sys.exit(0 if ok else 1)
PY
  fail "city topic keyed by ID: rows split or sums differ"

# --- (2) --per-partition: the old files, named as such; a group cannot switch ---------------------------
model expect "$T/data" 300 300 300 "$topic" turnstile --per-partition >/dev/null
expect_exit 3 "consume -e --per-partition" -- consume -t "$topic" -G "pp-$topic" --lake-dir "$T/pp" -e --per-partition
model compare "$T/data" "$T/pp" >"$T/compare.txt" && pass "--per-partition: one file per (partition, window) as the model" ||
  { fail "--per-partition lake differs from the model"; cat "$T/compare.txt" >&2; }
expect_exit 2 "a per-partition group resumed with topic-wide windows is refused" -- \
  consume -t "$topic" -G "pp-$topic" --lake-dir "$T/pp" -e
expect_contains "$T/err" "per-partition windows (stored) vs topic-wide windows (now)" "the refusal says what differs"

# --- (3) cron-style: data arrives between -e runs, some runs are SIGKILLed; every file is final --------
cron=cron-$$-$RANDOM
mkdir "$T/cron-data"
model generate "$T/cron-data" 80000 4 9 --spread
expect_exit 0 "topic create $cron" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$cron" -p 4
mkdir -p "$T/cron-lake" "$T/warehouse"
: >"$T/loaded.txt"
# The warehouse's incremental load: every file not seen before is loaded once; a seen file must never change.
load_new() {
  local f sum
  for f in "$T"/cron-lake/*.csv.gz; do
    [ -e "$f" ] || continue
    sum=$(sha256sum <"$f" | cut -d' ' -f1)
    if grep -q " $(basename "$f")\$" "$T/loaded.txt"; then
      grep -qx "$sum $(basename "$f")" "$T/loaded.txt" || fail "$(basename "$f") was replaced after it was loaded"
    else
      echo "$sum $(basename "$f")" >>"$T/loaded.txt"
      cp "$f" "$T/warehouse/"
    fi
  done
}
for chunk in 1 2 3 4; do
  for ((p = 0; p < 4; p++)); do
    lines=$(wc -l <"$T/cron-data/p$p.kv")
    sed -n "$(( (chunk - 1) * lines / 4 + 1 )),$(( chunk * lines / 4 ))p" "$T/cron-data/p$p.kv" |
      kcat -P -b "$BOOTSTRAP" -t "$cron" -p "$p" -K $'\t' -X enable.idempotence=true 2>/dev/null || fail "kcat -P chunk $chunk"
  done
  if [ $((chunk % 2)) = 1 ]; then  # killed mid-run, then the cron job's next run
    consume_exec -t "$cron" -G "cron-$cron" --lake-dir "$T/cron-lake" -e >/dev/null 2>"$T/cron-kill.err" &
    pid=$!
    cleanup_hooks+=("kill -9 $pid 2>/dev/null")
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    load_new
  fi
  code=0; consume -t "$cron" -G "cron-$cron" --lake-dir "$T/cron-lake" -e -q || code=$?
  [ "$code" = 0 ] || [ "$code" = 3 ] || fail "cron run $chunk: exit $code"
  load_new
done
code=0; consume -t "$cron" -G "cron-$cron" --lake-dir "$T/cron-lake" -e --flush-open -q || code=$?
[ "$code" = 0 ] || [ "$code" = 3 ] || fail "final --flush-open run: exit $code"
load_new
model expect "$T/cron-data" 300 300 300 "$cron" turnstile --flush-open >/dev/null
model compare "$T/cron-data" "$T/warehouse" >"$T/compare.txt" &&
  pass "the warehouse, loading each new file once across killed and resumed cron runs, equals the model" ||
  { fail "the warehouse differs from the model"; cat "$T/compare.txt" >&2; }

# --- (4) an empty partition does not hold the topic's windows open for ever (idle rule) ----------------
idle=idle-$$-$RANDOM
mkdir "$T/idle-data"
cp "$T/data"/p[0-3].kv "$T/idle-data/"
: >"$T/idle-data/p4.kv"
model expect "$T/idle-data" 300 300 300 "$idle" turnstile --idle 1800 >/dev/null
load_topic "$idle" 5 "$T/idle-data"
expect_exit 3 "consume -e with an empty partition, --idle-after 30m" -- \
  consume -t "$idle" -G "idle-$idle" --lake-dir "$T/idle" -e --idle-after 30m
model compare "$T/idle-data" "$T/idle" >"$T/compare.txt" &&
  pass "empty partition: windows up to the others' watermark minus --idle-after are written (the model)" ||
  { fail "empty partition: lake differs from the model"; cat "$T/compare.txt" >&2; }

# --- (5) a committed offset without an mtastream checkpoint (reset by hand) is a gap ----------------------
"$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "gap-$topic" --raw -c 2000 --commit >/dev/null 2>&1 ||
  fail "consume --raw --commit"
cp -r "$T/lake" "$T/gap-lake"
expect_exit 1 "consume -e after offsets were committed without a checkpoint: refused" -- \
  consume -t "$topic" -G "gap-$topic" --lake-dir "$T/gap-lake" -e
expect_contains "$T/err" "carries no mtastream checkpoint" "the error says the committed offset has no checkpoint"
expect_contains "$T/err" "--allow-gaps" "the error names --allow-gaps"
expect_contains "$T/err" "$topic/" "the error names the partition"
expect_eq "$(sums "$T/gap-lake" | md5sum)" "$(md5sum <"$T/wide.sha")" "refused: the lake is untouched"
code=0; consume -t "$topic" -G "gap-$topic" --lake-dir "$T/gap-lake" -e --allow-gaps --json >"$T/out" 2>"$T/err" || code=$?
[ "$code" = 0 ] || [ "$code" = 3 ] && pass "--allow-gaps goes on (exit $code)" || fail "--allow-gaps: exit $code"
expect_contains "$T/out" '"gaps":[{"partition":' "--allow-gaps: the summary lists the gaps"
expect_contains "$T/err" "the windows they belong to are partial" "--allow-gaps: stderr says the windows are partial"
expect_eq "$(sums "$T/gap-lake" | grep -cFf "$T/wide.sha")" "$(wc -l <"$T/wide.sha")" \
  "--allow-gaps: no complete window file was replaced by a partial one"

finish
