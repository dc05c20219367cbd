#!/usr/bin/env bash
# `mtastream replay` on the real MTA samples: totals per turnstile and anomaly counts against an
# independent Python model (replay/verify_mta.py), the truncated last line, order, IDs, layouts, captures.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
RAW=$SHARED_DATA/mta/turnstile_170617.txt
PANDAS=$SHARED_DATA/mta/turnstile_230603.csv.gz

# mtastream's events summed per turnstile, in the model's output shape, plus its anomaly counts.
totals_of() {  # CSV_EVENTS JSON_SUMMARY
  awk -F, '{k=$1","$2","$3","$4; n[k]++; e[k]+=$10; x[k]+=$11} END {for (k in n) print k, n[k], e[k], x[k]}' "$1" |
    LC_ALL=C sort
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); a=s["anomalies"]
print("anomalies", a["negative_delta"], a["delta_above_max"], a["duplicate_reading"], s["rejected"])' "$2"
}

check_against_model() {  # WHAT MAX_DELTA FILE...
  local what=$1 max=$2; shift 2
  local got=0
  "$MTASTREAM" replay --json --max-delta "$max" -o "$T/events.csv" "$@" >"$T/summary.json" 2>"$T/err" || got=$?
  [ "$got" -eq 0 ] || [ "$got" -eq 3 ] || fail "$what: exit $got"
  totals_of "$T/events.csv" "$T/summary.json" >"$T/got.txt"
  python3 "$HERE/replay/verify_mta.py" "$max" "$@" | LC_ALL=C sort >"$T/want.txt"
  if cmp -s "$T/got.txt" "$T/want.txt"; then pass "$what: per-turnstile totals and anomaly counts match the model"
  else fail "$what: differs from the model"; diff "$T/want.txt" "$T/got.txt" | head -10 >&2; fi
  if python3 "$HERE/replay/check_stream.py" "$T/events.csv" >"$T/stream-problems.txt"; then
    pass "$what: events ordered by time then turnstile, DATE/TIME/ID consistent"
  else fail "$what: stream problems"; head -5 "$T/stream-problems.txt" >&2; fi
  grep '^anomalies' "$T/want.txt" | sed "s|^|  $what (negative above-max duplicate rejected): |"
}

# --- the raw sample: CRLF, 10-digit counters, trailing blanks, truncated last line -------------------
expect_exit 3 "raw sample: partial (one rejected row)" -- \
  "$MTASTREAM" replay --json --dead-letter "$T/dead.ndjson" -o "$T/raw.csv" "$RAW"
expect_contains "$T/err" "turnstile_170617.txt:27342: EXITS '000245744' has 9 digits" \
  "truncated last line rejected naming file:line and why"
expect_contains "$T/err" "no newline" "rejection says the last line was cut short"
expect_contains "$T/dead.ndjson" "turnstile_170617.txt:27342" "dead letter names file:line"
expect_contains "$T/dead.ndjson" "000245744" "dead letter keeps the row"
expect_eq "$(wc -l <"$T/dead.ndjson")" "1" "one dead-lettered row"
expect_eq "$(grep -c '^G009,R151,02-00-05,.*,2017-06-11 17:00:00$' "$T/raw.csv")" "0" \
  "no event from the truncated reading"
expect_eq "$(grep -c '^G009,R151,02-00-05,.*,2017-06-11 13:00:00$' "$T/raw.csv")" "1" \
  "the reading before it still yields its event"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["rows"]==27340 and s["turnstiles"]==650, s' \
  "$T/out" && pass "raw sample: 27340 readings of 650 turnstiles" || fail "raw sample counts: $(cat "$T/out")"

check_against_model "raw sample" 10000 "$RAW"
check_against_model "pandas sample (26 gzip members)" 10000 "$PANDAS"
check_against_model "both samples in one run" 10000 "$RAW" "$PANDAS"
check_against_model "pandas sample, --max-delta 100" 100 "$PANDAS"
check_against_model "the raw sample given twice (every reading duplicated)" 10000 "$RAW" "$RAW"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["anomalies"]["duplicate_reading"]==27340, s' \
  "$T/summary.json" && pass "27340 duplicate readings counted, no event from them" || fail "duplicates: $(cat "$T/summary.json")"

# -v names each anomaly with file:line of both readings.
# -o /dev/null (a device: nothing to fsync) works; exit 3 because the cut-short last line is rejected.
got=0; "$MTASTREAM" -v replay -o /dev/null "$RAW" 2>"$T/verbose.err" || got=$?
expect_eq "$got" 3 "replay -o /dev/null: exit 3 (the truncated last line), no sync error"
expect_not_contains "$T/verbose.err" "cannot sync" "-o /dev/null is not fsynced"
expect_contains "$T/verbose.err" "turnstile_170617.txt:1431: negative_delta for A011,R080,01-00-00,57 ST-7 AV at 2017-06-10 04:00:00: ENTRIES -195, EXITS -50 since" \
  "-v lists each anomaly with file:line and the deltas"
expect_eq "$(grep -c ': negative_delta for ' "$T/verbose.err")" "343" "-v lists all 343 negative deltas"

# --- independence from row order, file boundaries, layout and line ends --------------------------------
python3 "$HERE/replay/reshape.py" "$PANDAS" "$T"
"$MTASTREAM" -q replay -o "$T/whole.csv" "$PANDAS"
expect_exit 0 "shuffled rows over 3 files (raw CRLF, pandas LF, multi-member gzip)" -- \
  "$MTASTREAM" replay -o "$T/shuffled.csv" "$T/a.txt" "$T/b.csv" "$T/c.csv.gz"
if cmp -s "$T/whole.csv" "$T/shuffled.csv"; then pass "shuffled inputs give the same bytes"; else
  fail "shuffled inputs give other output"; diff "$T/whole.csv" "$T/shuffled.csv" | head -5 >&2; fi
expect_exit 0 "two consecutive files, either order" -- "$MTASTREAM" replay -o "$T/weeks.csv" "$T/week2.csv.gz" "$T/week1.csv.gz"
cmp -s "$T/whole.csv" "$T/weeks.csv" && pass "readings joined across files" || fail "split files give other output"
zcat "$PANDAS" | "$MTASTREAM" -q replay - >"$T/stdin.csv"
cmp -s "$T/whole.csv" "$T/stdin.csv" && pass "plain stdin" || fail "plain stdin differs"
"$MTASTREAM" -q replay - <"$PANDAS" >"$T/stdin-gz.csv"
cmp -s "$T/whole.csv" "$T/stdin-gz.csv" && pass "gzip on stdin" || fail "gzip stdin differs"
"$MTASTREAM" -q replay -o "$T/again.csv" "$PANDAS"
cmp -s "$T/whole.csv" "$T/again.csv" && pass "a second run gives the same bytes (IDs included)" || fail "rerun differs"

# --- replay -> aggregate -> lake, end to end ------------------------------------------------------------------
set +o pipefail
"$MTASTREAM" -q replay -o - "$RAW" "$PANDAS" 2>"$T/replay-err" |
  "$MTASTREAM" -q aggregate --window 1h --lake-dir "$T/lake" --json - >"$T/aggregate.json" 2>"$T/aggregate-err"
statuses="${PIPESTATUS[*]}"
set -o pipefail
expect_eq "$statuses" "3 0" "replay (one rejected row) | aggregate (all accepted)"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["late"]==0 and s["rejected"]==0 and s["duplicates"]==0, s' \
  "$T/aggregate.json" && pass "aggregate: nothing late, rejected or duplicate in a replayed stream" || fail "aggregate summary: $(cat "$T/aggregate.json")"
for f in "$T"/lake/*.csv.gz; do zcat "$f" | tail -n +2; done | cut -d, -f2- | LC_ALL=C sort >"$T/lake-rows.txt"
python3 "$HERE/replay/verify_mta.py" 10000 --lake 3600 "$RAW" "$PANDAS" | LC_ALL=C sort >"$T/lake-want.txt"
if [ -s "$T/lake-want.txt" ] && cmp -s "$T/lake-rows.txt" "$T/lake-want.txt"; then
  pass "lake rows ($(wc -l <"$T/lake-want.txt")) equal the model's hourly sums of the model's events"
else fail "lake rows differ from the model"; diff "$T/lake-want.txt" "$T/lake-rows.txt" | head -6 >&2; fi
expect_contains "$T/lake-rows.txt" ",06/11/2017,00:00:00," "windows ending at midnight carry the next day's date"

# --- wire forms ----------------------------------------------------------------------------------------
head -1000 "$T/whole.csv" >"$T/first.csv"
"$MTASTREAM" -q replay --value-format json-string "$PANDAS" | head -1000 >"$T/first.jsonstr"
"$MTASTREAM" -q replay --value-format json "$PANDAS" | head -1000 >"$T/first.json"
python3 - "$T/first.csv" "$T/first.jsonstr" "$T/first.json" <<'PY' && pass "json-string and json forms carry the same events" || fail "wire forms differ"
import json, sys
csv_lines = open(sys.argv[1]).read().splitlines()
strings = [json.loads(l) for l in open(sys.argv[2])]
objects = [json.loads(l) for l in open(sys.argv[3])]
assert strings == csv_lines, "json-string"
names = "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS,ID,TIMESTAMP".split(",")
for line, obj in zip(csv_lines, objects):
    want = dict(zip(names, line.split(",")))
    want["ENTRIES"], want["EXITS"] = int(want["ENTRIES"]), int(want["EXITS"])
    assert obj == want, (obj, want)
assert len(objects) == 1000
PY

# --- pacing ----------------------------------------------------------------------------------------------
printf 'C/A,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n' >"$T/hourly.txt"
for h in 00 01 02 03; do printf 'A,U,S,ST,L,D,01/01/2020,%s:00:00,REGULAR,1%s,2%s\n' $h $h $h >>"$T/hourly.txt"; done
start=$(date +%s%N)
expect_exit 0 "--speed 36000 (an hour in 0.1 s)" -- "$MTASTREAM" replay --speed 36000 -o - "$T/hourly.txt"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "$(wc -l <"$T/out")" "3" "three hourly events"
[ "$elapsed_ms" -ge 200 ] && pass "paced: events 2 h after the first came >= 0.2 s later ($elapsed_ms ms)" ||
  fail "not paced: $elapsed_ms ms"
expect_not_contains "$T/err" "replay clock" "no progress line when stderr is not a terminal"

# --- captures --------------------------------------------------------------------------------------------
head -20 "$T/whole.csv" | python3 -c '
import json, sys
for i, line in enumerate(sys.stdin):
    v = line.rstrip("\n"); key = ",".join(v.split(",")[:3])
    print(json.dumps({"topic": "t", "partition": 0, "offset": i, "tstype": "create", "ts": 1700000000000 + 10 * i,
                      "broker": 1, "key": key if i % 2 else None, "payload": v}))' >"$T/capture.ndjson"
head -20 "$T/whole.csv" | awk -F, '{printf "%d\t%s,%s,%s\t%s\n", 1700000000000 + 10 * (NR-1), $1, $2, $3, $0}' >"$T/capture.tsv"
start=$(date +%s%N)
expect_exit 0 "capture (kcat -J NDJSON) replayed at speed 1" -- "$MTASTREAM" replay --capture --speed 1 -o - "$T/capture.ndjson"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
head -20 "$T/whole.csv" >"$T/capture-want.csv"
cmp -s "$T/out" "$T/capture-want.csv" && pass "capture values re-published in order" || fail "capture values differ"
[ "$elapsed_ms" -ge 190 ] && pass "capture keeps its timing (190 ms of messages took $elapsed_ms ms)" || fail "capture not paced: $elapsed_ms ms"
expect_exit 0 "capture (TSV %T\\t%k\\t%s)" -- "$MTASTREAM" replay --capture --json -o "$T/tsv-out.csv" "$T/capture.tsv"
cmp -s "$T/tsv-out.csv" "$T/capture-want.csv" && pass "TSV capture values" || fail "TSV capture values differ"
expect_contains "$T/out" '"mode":"capture"' "capture summary"
printf '{"ts":1,"payload":"ok"}\nnot a capture line\n' >"$T/bad-capture.txt"
expect_exit 3 "malformed capture line: partial" -- "$MTASTREAM" replay --capture -o - "$T/bad-capture.txt"
expect_contains "$T/err" "bad-capture.txt:2: neither a JSON object nor TIMESTAMP<TAB>KEY<TAB>VALUE" "malformed capture line named by file:line"
expect_eq "$(cat "$T/out")" "ok" "valid capture lines still flow"

# --- usage and input errors -----------------------------------------------------------------------------
expect_exit 2 "-t and -o together" -- "$MTASTREAM" replay -t x -o - "$RAW"
expect_exit 2 "--speed 0" -- "$MTASTREAM" replay --speed 0 -o - "$RAW"
expect_exit 2 "--speed with --as-fast-as-possible" -- "$MTASTREAM" replay --speed 2 --as-fast-as-possible "$RAW"
expect_exit 2 "--capture with --max-delta" -- "$MTASTREAM" replay --capture --max-delta 5 "$T/capture.tsv"
expect_exit 2 "bad --value-format" -- "$MTASTREAM" replay --value-format xml "$RAW"
expect_exit 2 "no input file" -- "$MTASTREAM" replay -o -
expect_exit 1 "missing input file" -- "$MTASTREAM" replay -o - "$T/no-such-file.txt"
expect_contains "$T/err" "no-such-file.txt" "names the missing file"
expect_empty "$T/out" "nothing on stdout for a missing file"
printf 'C/A,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\nA,U,S,ST,L,D,13/01/2020,00:00:00,REGULAR,1,2\n' >"$T/bad-date.txt"
expect_exit 3 "bad date: partial" -- "$MTASTREAM" replay -o - "$T/bad-date.txt"
expect_contains "$T/err" "bad-date.txt:2: DATE '13/01/2020'" "bad date named by file:line"

# The sample in the repository that the README's first replay example uses.
expect_exit 0 "replay of examples/data/turnstile_170617_sample.txt" -- \
  "$MTASTREAM" replay "$MTASTREAM_SOURCE_DIR/examples/data/turnstile_170617_sample.txt"
[ "$(wc -l <"$T/out")" -gt 900 ] && pass "the sample gives $(wc -l <"$T/out") events" || fail "the sample gave $(wc -l <"$T/out") events"

finish
