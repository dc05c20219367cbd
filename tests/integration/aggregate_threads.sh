#!/usr/bin/env bash
# `aggregate --threads N`: the stream, the lake, the dead letters and the summary are the same byte for
# byte for N = 1, 2, 3, 8 on inputs with bad, late, duplicate (also across group keys), overflowing and
# over-long messages, tumbling and sliding windows, several batches of lines, .gz and pipe inputs.
source "$(dirname "$0")/lib.sh"
MODEL="$MTASTREAM_SOURCE_DIR/tests/integration/aggregate/model.py"
cd "$T"

# The aggregate suite's model input (mixed wire forms, CRLF, bad lines, duplicates, late events) ...
python3 "$MODEL" gen "$T" 11
# ... plus 60,000 events of 3,000 turnstiles (several batches of 16,384 lines): out of order, some
# late, IDs repeated within a key and across keys, an overflowing sum, a line over 1 MiB.
python3 - <<'PY'
import random, time
rnd = random.Random(5)
base = 1695427200 + 3600
out = open("many.csv", "w")
ids = []
for i in range(60000):
    k = rnd.randrange(3000)
    t = base + i // 10 - rnd.choice([0, 0, 0, 3, 30, 200, 400, 900])
    if ids and rnd.random() < 0.05:
        eid = rnd.choice(ids[-2000:])
    else:
        eid = "id-%d" % i
        ids.append(eid)
    ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
    out.write("A%04d,R%03d,00-00-%02d,S%d,456NQR,BMT,09-23-23,%s,REGULAR,%d,%d,%s,%s\n"
              % (k, k % 300, k % 7, k % 50, ts[11:], rnd.randrange(100), rnd.randrange(100), eid, ts))
    if i == 30000:
        big = "9223372036854775000"
        out.write("A0001,R001,00-00-01,S1,456NQR,BMT,09-23-23,%s,REGULAR,%s,1,ovf-1,%s\n" % (ts[11:], big, ts))
        out.write("A0001,R001,00-00-01,S1,456NQR,BMT,09-23-23,%s,REGULAR,%s,1,ovf-2,%s\n" % (ts[11:], big, ts))
        out.write("x" * (1100 * 1024) + "\n")
        out.write("not,a,message\n\n")
PY
python3 - <<'PY'
import gzip
data = open("many.csv", "rb").read()
half = data.index(b"\n", len(data) // 2) + 1
open("many.csv.gz", "wb").write(gzip.compress(data[:half]) + gzip.compress(data[half:]))
PY

# run TAG ARGS...: for each N, -o - with a dead letter and a JSON summary (seconds left out), and the lake.
run() {
  local tag=$1 n first=""
  shift
  for n in 1 2 3 8; do
    rm -rf "lake-$tag-$n" "dl-$tag-$n.ndjson"
    "$MTASTREAM" aggregate --threads "$n" -o - --dead-letter "dl-$tag-$n.ndjson" "$@" >"out-$tag-$n.csv" 2>"$T/err" || true
    sed -e "s/dl-$tag-$n/DL/" -e 's/ in [0-9.]*s:/:/' "$T/err" >"err-$tag-$n"  # the file name and time differ
    "$MTASTREAM" aggregate --threads "$n" --json --lake-dir "lake-$tag-$n" --name "$tag" "$@" 2>/dev/null |
      sed 's/,"seconds":[0-9.]*//' >"sum-$tag-$n.json" || true
    if [ -z "$first" ]; then first=$n; continue; fi
    cmp -s "out-$tag-1.csv" "out-$tag-$n.csv" && pass "$tag: stream with --threads $n = --threads 1" ||
      fail "$tag: stream with --threads $n differs"
    cmp -s "dl-$tag-1.ndjson" "dl-$tag-$n.ndjson" && pass "$tag: dead letters with --threads $n = --threads 1" ||
      fail "$tag: dead letters with --threads $n differ"
    cmp -s "err-$tag-1" "err-$tag-$n" && pass "$tag: warnings with --threads $n = --threads 1" ||
      fail "$tag: warnings with --threads $n differ"
    cmp -s "sum-$tag-1.json" "sum-$tag-$n.json" && pass "$tag: summary with --threads $n = --threads 1" ||
      fail "$tag: summary with --threads $n differs: $(cat "sum-$tag-$n.json") vs $(cat "sum-$tag-1.json")"
    diff -r "lake-$tag-1" "lake-$tag-$n" >/dev/null && pass "$tag: lake with --threads $n = --threads 1" ||
      fail "$tag: lake with --threads $n differs"
  done
}

run model-tumbling events.txt
run model-sliding --window 300s --slide 60s events.txt
run model-wm0 --window 60s --watermark 0 events.txt
run many many.csv
run many-sliding --window 10m --slide 2m --watermark 5m many.csv
run many-gz many.csv.gz
run two-inputs events.txt many.csv
run by-station --group-by STATION --window 4h many.csv
# Hive folders (lake only): the same tree whatever N.
for n in 1 3 8; do
  "$MTASTREAM" aggregate --threads "$n" --group-by STATION,CA --partition-by date,station --lake-dir "tree-$n" many.csv 2>/dev/null || true
done
[ -n "$(find tree-1 -name '*.csv.gz' -path '*station=*' | head -1)" ] && diff -r tree-1 tree-3 >/dev/null && diff -r tree-1 tree-8 >/dev/null &&
  pass "--partition-by tree with --threads 3 and 8 = --threads 1" || fail "--partition-by tree differs with threads (or is empty)"

# The first input's suite model still agrees (threads change nothing the model checks).
python3 "$MODEL" expect events.txt 300 300 300 original expected.csv expected.dead
cmp -s out-model-tumbling-8.csv expected.csv && pass "--threads 8 matches the model" || fail "--threads 8 differs from the model"

# The inputs hold what the comparisons are meant to cover.
python3 - sum-many-1.json <<'PY' && pass "many.csv: late, duplicate, overflow and bad messages all present" || fail "many.csv summary lacks a case: $(cat sum-many-1.json)"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["late"] > 100 and s["duplicates"] > 100 and s["overflow"] == 1 and s["bad"] == 2 and s["windows"] > 15, s
PY
expect_contains dl-many-1.ndjson "line longer than" "the over-long line is a dead letter"
expect_contains dl-many-1.ndjson "64-bit maximum" "the overflowing message is a dead letter"

# A pipe (windows written as lines arrive) gives the same lake.
for n in 1 3; do
  cat many.csv | "$MTASTREAM" aggregate --threads "$n" --name many --lake-dir "lake-pipe-$n" - 2>/dev/null || true
done
diff -r lake-many-1 lake-pipe-1 >/dev/null && pass "pipe, 1 thread: same lake" || fail "pipe, 1 thread: lake differs"
diff -r lake-many-1 lake-pipe-3 >/dev/null && pass "pipe, 3 threads: same lake" || fail "pipe, 3 threads: lake differs"

# Past --max-keys the run stops with exit 1 for any N, and the windows closed before are written.
{ printf 'A001,R001,02-00-00,S1,456NQR,BMT,09-23-23,16:54:00,REGULAR,7,9,id-0,2023-09-23 16:54:00\n'
  for i in $(seq 1 40); do
    printf 'A%03d,R001,02-00-00,S1,456NQR,BMT,09-23-23,17:01:00,REGULAR,7,9,id-%d,2023-09-23 17:01:00\n' "$i" "$i"
  done; } >keys.csv
for n in 1 2 8; do
  expect_exit 1 "--max-keys 5 with --threads $n: exit 1" -- \
    "$MTASTREAM" aggregate --threads "$n" --watermark 0s --max-keys 5 --lake-dir "lake-keys-$n" keys.csv
  expect_contains "$T/err" "keys.csv:" "--threads $n: the error names the file and line"
  expect_eq "$(ls "lake-keys-$n")" "turnstile_keys_20230923T165000_20230923T165500.csv.gz" "--threads $n: the window closed before is written"
done

expect_exit 2 "--threads 0 is refused" -- "$MTASTREAM" aggregate --threads 0 -o - events.txt
finish
