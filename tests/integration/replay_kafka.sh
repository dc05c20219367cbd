#!/usr/bin/env bash
# `mtastream replay -t`: delta events and captures published to a real Kafka broker, read back with kcat.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka
RAW=$SHARED_DATA/mta/turnstile_170617.txt
run=$$-$RANDOM  # topic names unique per run: the broker outlives one suite

# The raw sample to a topic, as fast as possible; read back equals the -o stream, keys are the turnstile.
"$MTASTREAM" -q replay -o "$T/want.csv" "$RAW" 2>/dev/null || true
expect_exit 3 "replay -t: partial because of the truncated row" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" replay -t "replay-raw-$run" --as-fast-as-possible --json "$RAW"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
assert s["sent"]==s["delivered"]==s["events"]==26346 and s["failed"]==0 and s["rejected"]==1, s' "$T/out" &&
  pass "26346 events sent and acknowledged" || fail "summary: $(cat "$T/out")"
kcat -C -b "$BOOTSTRAP" -t "replay-raw-$run" -o beginning -e -q -f '%k\t%s\n' >"$T/read.tsv"
cut -f2 "$T/read.tsv" >"$T/read-values.csv"
cmp -s "$T/read-values.csv" "$T/want.csv" && pass "topic holds the same events in the same order" ||
  fail "topic content differs ($(wc -l <"$T/read-values.csv") lines)"
awk -F'\t' '{split($2, f, ","); if ($1 != f[1] "," f[2] "," f[3]) bad++} END {exit bad > 0}' "$T/read.tsv" &&
  pass "keys are CA,UNIT,SCP" || fail "wrong keys"

# json-string form and --key id.
printf 'C/A,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n' >"$T/hourly.txt"
for h in 00 01 02 03; do printf 'A,U,S,ST,L,D,01/01/2020,%s:00:00,REGULAR,1%s,2%s\n' $h $h $h >>"$T/hourly.txt"; done
expect_exit 0 "json-string, key id, paced" -- "$MTASTREAM" -b "$BOOTSTRAP" replay -t "replay-hourly-$run" \
  --value-format json-string --key id --speed 36000 "$T/hourly.txt"
kcat -C -b "$BOOTSTRAP" -t "replay-hourly-$run" -o beginning -e -q -f '%k|%s\n' >"$T/hourly.read"
expect_eq "$(wc -l <"$T/hourly.read")" "3" "three events on the topic"
python3 -c 'import json,sys
for line in open(sys.argv[1]):
    key, value = line.rstrip("\n").split("|", 1)
    fields = json.loads(value).split(",")
    assert fields[11] == key and fields[9] == "1" and fields[10] == "1", line' "$T/hourly.read" &&
  pass "values are JSON strings of the CSV line, key is the ID" || fail "json-string/id: $(head -1 "$T/hourly.read")"

# A capture of that topic (kcat -J) re-published with its timing to another topic.
kcat -C -b "$BOOTSTRAP" -t "replay-raw-$run" -o beginning -e -q -J -c 200 >"$T/capture.ndjson"
expect_exit 0 "replay --capture -t" -- "$MTASTREAM" -b "$BOOTSTRAP" replay --capture -t "replay-capture-$run" \
  --speed 10 "$T/capture.ndjson"
kcat -C -b "$BOOTSTRAP" -t "replay-capture-$run" -o beginning -e -q -f '%k\t%s\n' >"$T/recaptured.tsv"
head -200 "$T/read.tsv" >"$T/capture-want.tsv"
cmp -s "$T/recaptured.tsv" "$T/capture-want.tsv" && pass "captured keys and values re-published in order" ||
  fail "re-published capture differs"

# Ctrl-C while paced: stops, the event already sent is delivered, exit 130 (cut short by SIGINT).
"$MTASTREAM" -b "$BOOTSTRAP" replay -t "replay-stop-$run" --speed 1 "$T/hourly.txt" >"$T/stop.out" 2>"$T/stop.err" &
pid=$!
cleanup_hooks+=("kill $pid 2>/dev/null")
for _ in $(seq 1 100); do
  n=$( (kcat -C -b "$BOOTSTRAP" -t "replay-stop-$run" -o beginning -e -q 2>/dev/null || true) | wc -l)
  [ "$n" -ge 1 ] && break
  sleep 0.2
done
kill -INT "$pid"
status=0
wait "$pid" || status=$?
expect_eq "$status" "130" "SIGINT during a paced replay: exit 130 (interrupted)"
expect_contains "$T/stop.err" "stopped before the end" "says it stopped early"
expect_contains "$T/stop.err" "1 sent to topic replay-stop-$run, 1 delivered" "the event sent before was delivered"

# No broker: nothing is acknowledged, so the run failed (exit 1) and the summary says so.
expect_exit 1 "unreachable broker: nothing delivered is exit code 1 (as produce)" -- \
  "$MTASTREAM" -b 127.0.0.1:1 -X message.timeout.ms=2000 replay -t "replay-nowhere" --as-fast-as-possible --json "$T/hourly.txt"
expect_contains "$T/err" "not delivered" "reports messages not delivered"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["delivered"]==0 and s["failed"]==3, s' "$T/out" &&
  pass "summary counts 3 failed" || fail "summary: $(cat "$T/out")"

finish
