#!/usr/bin/env bash
# --group-by and --partition-by end to end: aggregate against its model with any column subset; the
# original's second consumer (consume --group-by STATION --window 4h --partition-by date,hour,station)
# against a real Kafka broker and the consume model; a changed group-by refused on resume; SIGKILL
# restarts giving a byte-identical partitioned tree; hostile partition values that stay inside the lake;
# upload (file:// and S3) keeping the relative paths; DuckDB and PySpark reading the tree back with its
# partition columns (installed once by scripts/lake-readers.sh).
# needs: kafka s3
source "$(dirname "$0")/lib.sh"
need kafka
need s3
AMODEL="$MTASTREAM_SOURCE_DIR/tests/integration/aggregate/model.py"
cd "$T"

# --- (1) aggregate: any subset, any order, against the model ---------------------------------------
python3 "$AMODEL" gen "$T" 7
for g in STATION "DESC,STATION" "CA,SCP" DESC "UNIT,LINENAME,DIVISION"; do
  python3 "$AMODEL" expect events.txt 14400 14400 14400 original expected.csv expected.dead "$g"
  expect_exit 3 "aggregate --group-by $g --window 4h" -- "$MTASTREAM" aggregate --group-by "$g" --window 4h -o - events.txt
  cmp -s "$T/out" expected.csv && pass "--group-by $g: rows match the model" ||
    { fail "--group-by $g: rows differ from the model"; diff expected.csv "$T/out" | head -5 >&2; }
done
python3 "$AMODEL" expect events.txt 300 300 300 clean expected.csv expected.dead "STATION,DESC"
expect_exit 3 "aggregate --group-by station,desc --layout clean" -- \
  "$MTASTREAM" aggregate --group-by station,desc --layout clean -o - events.txt
cmp -s "$T/out" expected.csv && pass "clean layout, lowercase names: rows match the model" || fail "clean --group-by differs"
expect_eq "$(head -1 "$T/out")" "STATION,DATE,TIME,DESC,ENTRIES,EXITS" "header: just the group columns, original order"
# The default is all seven columns, byte for byte as before.
expect_exit 3 "aggregate with the default group-by" -- "$MTASTREAM" aggregate -o - events.txt
cp "$T/out" default.csv
expect_exit 3 "aggregate --group-by with all seven, shuffled" -- \
  "$MTASTREAM" aggregate --group-by DESC,CA,UNIT,SCP,STATION,LINENAME,DIVISION -o - events.txt
cmp -s "$T/out" default.csv && pass "all seven in any order = the default output" || fail "all seven differ from the default"

# Bad lists are usage errors that say what is wrong.
expect_exit 2 "unknown column" -- "$MTASTREAM" aggregate --group-by STATON -o - events.txt
expect_contains "$T/err" "did you mean STATION?" "suggests the column"
expect_exit 2 "duplicate column" -- "$MTASTREAM" aggregate --group-by STATION,station -o - events.txt
expect_contains "$T/err" "given twice" "names the duplicate"
expect_exit 2 "empty column" -- "$MTASTREAM" aggregate --group-by "" -o - events.txt
expect_contains "$T/err" "empty column name" "says the name is empty"
expect_exit 2 "--partition-by a column not grouped by" -- \
  "$MTASTREAM" aggregate --group-by STATION --partition-by date,unit --lake-dir x events.txt
expect_contains "$T/err" "UNIT is not a group column" "says it is not a group column"
expect_exit 2 "--partition-by with -o" -- "$MTASTREAM" aggregate --partition-by date -o - events.txt
expect_exit 2 "--partition-by unknown item" -- "$MTASTREAM" aggregate --partition-by date,hours --lake-dir x events.txt
expect_contains "$T/err" "did you mean hour?" "suggests the item"

# aggregate's partitioned lake holds the -o rows, each in the folder of its station and window end.
python3 "$AMODEL" expect events.txt 14400 14400 14400 clean expected.csv expected.dead STATION
expect_exit 3 "aggregate --partition-by date,hour,station --lake-dir" -- "$MTASTREAM" aggregate --group-by STATION \
  --window 4h --layout clean --partition-by date,hour,station --lake-dir agg-lake events.txt
python3 - agg-lake expected.csv <<'PY' && pass "aggregate: every model row in its date=/hour=/station= folder" ||
import os, sys
got = []
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        import gzip
        lines = gzip.open(os.path.join(root, f), "rt").read().splitlines()
        assert lines[0] == "STATION,DATE,TIME,ENTRIES,EXITS", lines[0]
        parts = dict(p.split("=", 1) for p in os.path.relpath(root, sys.argv[1]).split("/"))
        for line in lines[1:]:
            st, d, t = line.split(",")[:3]
            assert parts == {"date": "%s-%s-%s" % (d[6:], d[:2], d[3:5]), "hour": t[:2], "station": st}, (root, line)
            got.append(line)
want = open(sys.argv[2]).read().splitlines()[1:]
assert sorted(got) == sorted(want), (len(got), len(want))
PY
  fail "aggregate's partitioned lake differs from the model"

# --- (2) hostile partition values stay inside the lake and are Hive-escaped --------------------------
python3 - <<'PY'
stations = ["../../x", "a/b", "=", "%", "..", "59 ST", "caf\u00e9", "x:y*z?"]
with open("hostile.csv", "w", encoding="utf-8") as f:
    for i, st in enumerate(stations):
        for j in range(3):
            f.write("A001,R001,02-00-0%d,%s,456,BMT,09-23-23,03:%02d:00,REGULAR,%d,1,id-%d-%d,2023-09-23 03:%02d:00\n"
                    % (j, st, 10 + j, 10 * i + j, i, j, 10 + j))
PY
mkdir -p hostile-root
expect_exit 0 "aggregate of hostile station names into partitions" -- \
  "$MTASTREAM" aggregate --group-by STATION --window 4h --partition-by date,hour,station --lake-dir hostile-root/lake hostile.csv
expect_eq "$(find hostile-root -type f | grep -vc '^hostile-root/lake/date=2023-09-23/hour=04/station=[^/]*/turnstile_hostile_20230923T000000_20230923T040000.csv.gz$' || true)" \
  "0" "every file is at date=/hour=/station=<one component>/ inside the lake"
expect_eq "$(find hostile-root -type f | wc -l)" "8" "one file per station"
for want in "station=..%2F..%2Fx" "station=a%2Fb" "station=%3D" "station=%25" "station=.." "station=59 ST" \
  "station=café" "station=x%3Ay%2Az%3F"; do
  [ -d "hostile-root/lake/date=2023-09-23/hour=04/$want" ] && pass "folder $want" || fail "folder $want missing"
done
expect_eq "$(zcat "hostile-root/lake/date=2023-09-23/hour=04/station=a%2Fb/"*.csv.gz)" \
  $',STATION,DATE,TIME,ENTRIES,EXITS\n0,a/b,09/23/2023,04:00:00,33,3' "a partition file holds its rows, unescaped inside"

# --- (3) the original's second consumer against a real broker and the model --------------------------
topic=gp-$$-$RANDOM
mkdir data
model generate "$T/data" 60000 4 11 --spread
model expect "$T/data" 14400 14400 14400 "$topic" turnstile --flush-open --group-by STATION \
  --partition-by date,hour,station
load_topic "$topic" 4 "$T/data"
second=(--group-by STATION --window 4h --partition-by date,hour,station)
expect_exit 3 "consume ${second[*]} -e --flush-open" -- \
  consume -t "$topic" -G "g1-$topic" --lake-dir "$T/lake1" "${second[@]}" -e --flush-open --json \
  --upload "file://$T/uploaded"
cp "$T/out" summary1.json
model compare "$T/data" "$T/lake1" >compare.txt && pass "the partitioned lake equals the model (rows, paths, header)" ||
  { fail "the partitioned lake differs from the model"; cat compare.txt >&2; }
first=$(find "$T/lake1" -path "$T/lake1/.mtastream" -prune -o -name '*.csv.gz' -print -quit)
case "$first" in
  "$T"/lake1/date=2023-09-2?/hour=[0-2][0-9]/station=Station-*/turnstile_"$topic"_*.csv.gz) pass "path is date=/hour=/station=/name" ;;
  *) fail "unexpected path $first" ;;
esac
# consume --upload kept the relative paths: the uploaded tree is the lake tree, file for file.
(cd "$T/lake1" && find . -path ./.mtastream -prune -o -type f -print | sort | xargs -d '\n' sha256sum) >lake1.sha
(cd "$T/uploaded" && find . -type f -print | sort | xargs -d '\n' sha256sum) >uploaded.sha
cmp -s lake1.sha uploaded.sha && pass "consume --upload: the uploaded tree equals the lake's relative paths" ||
  { fail "consume --upload tree differs"; diff lake1.sha uploaded.sha | head -5 >&2; }
python3 - summary1.json "$(grep -c . lake1.sha)" <<'PY' && pass "summary: files = partition files, windows fewer" || fail "summary counts: $(cat summary1.json)"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["files"] == int(sys.argv[2]) == s["uploaded"] and 0 < s["windows"] < s["files"], s
PY

# --per-partition with partitions: one file per (partition, window, folder), as the model says.
model expect "$T/data" 14400 14400 14400 "$topic" turnstile --flush-open --per-partition --group-by STATION \
  --partition-by station,date >/dev/null
expect_exit 3 "consume --per-partition --group-by STATION --partition-by station,date" -- \
  consume -t "$topic" -G "pp-$topic" --lake-dir "$T/pp" --group-by STATION --window 4h --partition-by station,date \
  --per-partition -e --flush-open
model compare "$T/data" "$T/pp" >compare.txt && pass "--per-partition partitioned lake equals the model" ||
  { fail "--per-partition partitioned lake differs"; cat compare.txt >&2; }
# The model's expected files are the topic-wide ones again for what follows.
model expect "$T/data" 14400 14400 14400 "$topic" turnstile --flush-open --group-by STATION \
  --partition-by date,hour,station >/dev/null

# status shows what the group's checkpoints record.
expect_exit 0 "status --json of the second consumer's group" -- "$MTASTREAM" -b "$BOOTSTRAP" status -t "$topic" -G "g1-$topic" --json
python3 - "$T/out" <<'PY' && pass "status --json: group_by STATION, partition_by date,hour,station" || fail "status --json: $(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
c = [p["checkpoint"] for p in d["partitions"]]
assert c and all(x["group_by"] == "STATION" and x["partition_by"] == "date,hour,station" for x in c), c
PY

# A group resumed with another group-by (or partition-by) is refused like another window.
expect_exit 2 "resume with another --group-by is refused" -- \
  consume -t "$topic" -G "g1-$topic" --lake-dir "$T/lake-other" --window 4h --group-by STATION,DESC \
  --partition-by date,hour,station -e
expect_contains "$T/err" "group-by STATION (stored) vs STATION,DESC (now)" "the refusal names both group-bys"
expect_contains "$T/err" "--force-window-config" "the refusal says how to force it"
expect_exit 2 "resume without --partition-by is refused" -- \
  consume -t "$topic" -G "g1-$topic" --lake-dir "$T/lake-other" --window 4h --group-by STATION -e
expect_contains "$T/err" "partition-by date,hour,station (stored) vs none (now)" "the refusal names the partitioning"
expect_eq "$(find "$T/lake-other" -name '*.csv.gz' 2>/dev/null | wc -l)" "0" "nothing written when refused"
# --- (4) SIGKILL restarts with partitions: byte-identical tree ---------------------------------------
tree_sums() { (cd "$1" && find . -path ./.mtastream -prune -o -type f -name '*.csv.gz' -print | sort | xargs -d '\n' sha256sum); }
tree_sums "$T/lake1" >sums1.txt
files() { local n; n=$(find "$T/lake2" -type f | wc -l) || true; echo "${n:-0}"; }
mkdir -p "$T/lake2"
kills=0
for i in 1 2 3 4 5 6; do
  consume_exec -t "$topic" -G "crash-$topic" --lake-dir "$T/lake2" "${second[@]}" -e --flush-open >/dev/null 2>"$T/kill$i.err" &
  pid=$!
  cleanup_hooks+=("kill -9 $pid 2>/dev/null")
  # Killed after some new progress (staged segments, markers, lake files) or a few polls, whichever first.
  target=$(( $(files) + 1 + RANDOM % 30 )) polls=$(( 1 + RANDOM % 40 ))
  while kill -0 "$pid" 2>/dev/null && [ "$(files)" -lt "$target" ] && [ "$polls" -gt 0 ]; do
    sleep 0.02
    polls=$((polls - 1))
  done
  # A run that finished first is no kill; the next one resumes from its commit (and finishes too).
  kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
  wait "$pid" 2>/dev/null || true
done
[ "$kills" -ge 1 ] && pass "$kills consumers killed mid-run" || fail "no kill landed mid-run"
code=0
consume -t "$topic" -G "crash-$topic" --lake-dir "$T/lake2" "${second[@]}" -e --flush-open >"$T/out" 2>"$T/err" || code=$?
[ "$code" = 0 ] || [ "$code" = 3 ] && pass "final run after the kills (exit $code)" ||
  { fail "final run after the kills: exit $code"; cat "$T/err" >&2; }
tree_sums "$T/lake2" >sums2.txt
cmp -s sums1.txt sums2.txt && pass "after SIGKILLs: the same partition tree, every file byte-identical" ||
  { fail "the tree after SIGKILLs differs"; diff sums1.txt sums2.txt | head -5 >&2; }
expect_eq "$(find "$T/lake2" -name '*.tmp.*' | wc -l)" "0" "no temporary files left in the partition folders"

# A killed writer's temporary file deep in a partition folder is removed at the next start.
dir=$(dirname "$(find "$T/lake2" -path "$T/lake2/.mtastream" -prune -o -name '*.csv.gz' -print -quit)")
sh -c 'exit 0' & dead=$!; wait $dead
echo partial >"$dir/.x.csv.gz.once.tmp.$dead"
# And a killed upload's temporary copy in a partition folder of the --upload target.
updir=$(dirname "$(find "$T/uploaded" -name '*.csv.gz' -print -quit)")
echo partial >"$updir/.x.csv.gz.tmp-$dead-0"
expect_exit 0 "a rerun with nothing new" -- consume -t "$topic" -G "crash-$topic" --lake-dir "$T/lake2" "${second[@]}" -e \
  --upload "file://$T/uploaded"
expect_contains "$T/err" "removed 1 temporary files a killed writer left" "the start removed the stale temporary file in $dir"
expect_contains "$T/err" "removed 1 temporary files a killed upload left" "and the stale upload copy in $updir"
[ ! -e "$dir/.x.csv.gz.once.tmp.$dead" ] && pass "stale temp in a partition folder is gone" || fail "stale temp still there"
[ ! -e "$updir/.x.csv.gz.tmp-$dead-0" ] && pass "stale upload temp in a partition folder is gone" || fail "stale upload temp still there"

# --- (5) upload of a directory tree to S3 keeps the relative paths (hostile names too) ----------------
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY AWS_REGION=$S3_REGION
run=gp-$$-$RANDOM
expect_exit 0 "upload of the hostile partition tree to S3" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run" --endpoint "$S3_ENDPOINT" --json hostile-root/lake
expect_exit 0 "upload of the consumer's partition tree to S3" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/second" --endpoint "$S3_ENDPOINT" "$T/lake1"
moto_python=${MTASTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtastream}/moto-5.2.5/bin/python
"$moto_python" - "$S3_ENDPOINT" "$S3_BUCKET" "$run" "$T/hostile-root/lake" "$T/lake1" <<'PY' &&
import boto3, hashlib, os, sys
endpoint, bucket, run, hostile, lake = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint)
keys = {}
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=run + "/"):
    for o in page.get("Contents", []):
        keys[o["Key"]] = o
want = {}
for base, prefix in ((hostile, run), (lake, run + "/second")):
    for root, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            path = os.path.join(root, f)
            want[prefix + "/" + os.path.relpath(path, base)] = path
assert set(keys) == set(want), (sorted(set(keys) ^ set(want))[:5])
for key, path in want.items():
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == open(path, "rb").read(), key
print("%d objects, keys = relative paths" % len(keys))
PY
  pass "S3 (read back with boto3): every object under its relative path, same bytes" || fail "S3 keys or bytes differ"

# --- (6) DuckDB and PySpark read the tree back with its partition columns ----------------------------
readers=$("$MTASTREAM_SOURCE_DIR/scripts/lake-readers.sh" install) || { fail "installing duckdb and pyspark"; finish; }
python3 - "$T/data/expected.json" >expected-totals.txt <<'PY'
import collections, json, sys
tot = collections.defaultdict(lambda: [0, 0])
for path, rows in json.load(open(sys.argv[1])).items():
    parts = dict(p.split("=", 1) for p in path.split("/")[:-1])
    for r in rows:  # STATION, DATE, TIME, ENTRIES, EXITS
        k = (parts["date"], int(parts["hour"]), parts["station"])
        assert r[0] == parts["station"]
        tot[k][0] += int(r[3]); tot[k][1] += int(r[4])
for k in sorted(tot):
    print("%s|%d|%s|%d|%d" % (k + tuple(tot[k])))
PY
"$readers" - "$T/lake1" >duckdb-totals.txt <<'PY' || fail "duckdb read_csv(hive_partitioning=true) failed"
import duckdb, sys
rows = duckdb.sql("""
  SELECT CAST("date" AS VARCHAR), CAST(hour AS INTEGER), station, SUM(ENTRIES), SUM(EXITS)
  FROM read_csv('%s/**/*.csv.gz', hive_partitioning = true, header = true)
  GROUP BY ALL ORDER BY ALL""" % sys.argv[1]).fetchall()
for r in rows:
    print("%s|%d|%s|%d|%d" % r)
PY
cmp -s expected-totals.txt duckdb-totals.txt && pass "DuckDB: date, hour, station partition columns and totals match" ||
  { fail "DuckDB totals differ"; diff expected-totals.txt duckdb-totals.txt | head -5 >&2; }
# The hostile names come back unescaped: the folder names are the Hive escaping DuckDB undoes.
"$readers" - "$T/hostile-root/lake" <<'PY' && pass "DuckDB reads the hostile station names back as they were" ||
import duckdb, sys
got = sorted(r[0] for r in duckdb.sql(
    "SELECT DISTINCT station FROM read_csv('%s/**/*.csv.gz', hive_partitioning = true)" % sys.argv[1]).fetchall())
want = sorted(["../../x", "a/b", "=", "%", "..", "59 ST", "caf\u00e9", "x:y*z?"])
assert got == want, (got, want)
PY
  fail "DuckDB read other station names from the hostile tree"
"$readers" - "$T/lake1" >spark-totals.txt 2>spark.err <<'PY' || { fail "pyspark read failed"; tail -5 spark.err >&2; }
import sys
from pyspark.sql import SparkSession, functions as F
spark = (SparkSession.builder.master("local[1]").appName("mtastream-test").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1").getOrCreate())
df = spark.read.csv(sys.argv[1], header=True, inferSchema=True)
cols = [c.lower() for c in df.columns]
assert "date" in cols and "hour" in cols and "station" in cols, df.columns
out = (df.groupBy(F.col("date").cast("string").alias("d"), F.col("hour").cast("int").alias("h"), F.col("station"))
       .agg(F.sum("ENTRIES").alias("e"), F.sum("EXITS").alias("x")).orderBy("d", "h", "station").collect())
for r in out:
    print("%s|%d|%s|%d|%d" % (r["d"], r["h"], r["station"], r["e"], r["x"]))
spark.stop()
PY
cmp -s expected-totals.txt spark-totals.txt && pass "PySpark: partition columns and totals match" ||
  { fail "PySpark totals differ"; diff expected-totals.txt spark-totals.txt | head -5 >&2; }

finish
