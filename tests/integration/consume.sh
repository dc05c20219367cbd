#!/usr/bin/env bash
# consume against a real Apache Kafka broker: 300k turnstile-keyed messages over 4 partitions (duplicates,
# late, malformed; plain CSV, the original's JSON strings and JSON objects) to the lake, checked against an
# independent model (consume_model.py): topic-wide windows, open ones kept for the next run, then written by
# --flush-open; then the same with SIGKILL at random moments and restarts: the lake must be byte-identical;
# dead letters name topic/partition@offset; a changed window config or prefix is refused; a later exact
# re-send is late or a duplicate alike with and without a restart.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka

topic=consume-$$-$RANDOM
mkdir "$T/data"
model generate "$T/data" 300000 4 11
model expect "$T/data" 300 300 300 "$topic" turnstile >"$T/model.txt"
cat "$T/model.txt"
cp "$T/data/expected.json" "$T/expected-e.json"
load_topic "$topic" 4 "$T/data"

# --- (1) one run with -e: the lake equals the model ---------------------------------------------------
expect_exit 3 "consume -e (rejected messages make exit 3)" -- \
  consume -t "$topic" -G "one-$topic" --lake-dir "$T/lake1" --dead-letter "$T/dead1.ndjson" -e --json
cp "$T/out" "$T/summary1.json"
model compare "$T/data" "$T/lake1" >"$T/compare1.txt" && pass "lake equals the model (names, rows, sums)" ||
  { fail "lake differs from the model"; cat "$T/compare1.txt" >&2; }
read -r late dups bad < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["late"], d["duplicates"], d["bad"])' "$T/data/expected-counts.json")
expect_contains "$T/summary1.json" "\"read\":300000," "summary: read 300000"
expect_contains "$T/summary1.json" "\"late\":$late," "summary: $late late (as the model)"
expect_contains "$T/summary1.json" "\"duplicates\":$dups," "summary: $dups duplicates (as the model)"
expect_contains "$T/summary1.json" "\"bad\":$bad," "summary: $bad bad (as the model)"
expect_contains "$T/summary1.json" "\"files\":$(ls "$T/lake1" | wc -l)," "summary: files = lake files"
expect_contains "$T/summary1.json" '"committed":{"0":' "summary: per-partition committed offsets"
model rejects "$T/dead1.ndjson" >"$T/rejects1.txt"
expect_eq "$(diff "$T/rejects1.txt" "$T/data/expected-rejects.txt" | wc -l)" "0" \
  "dead letters: exactly the model's late and bad messages, by topic/partition@offset"
expect_contains "$T/err" "$topic/" "stderr names topic/partition@offset of rejected messages"
sums "$T/lake1" >"$T/sums1.txt"

python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["open_windows"] > 0' "$T/summary1.json" &&
  pass "summary: the windows still open are counted (kept in the checkpoints, not in the lake)" ||
  fail "summary: no open windows reported: $(cat "$T/summary1.json")"

# A second run of the same group finds nothing new: it re-reads only the windows still open at the end,
# writes nothing, and rejects nothing again.
expect_exit 0 "second consume -e of the same group: nothing new, exit 0" -- \
  consume -t "$topic" -G "one-$topic" --lake-dir "$T/lake1" --dead-letter "$T/dead1.ndjson" -e --json
expect_contains "$T/out" '"rejected":0,' "second run: nothing rejected again"
expect_contains "$T/out" '"files":0,' "second run: no lake file written"
expect_eq "$(sums "$T/lake1" | md5sum)" "$(md5sum <"$T/sums1.txt")" "second run: lake unchanged"
expect_eq "$(wc -l <"$T/dead1.ndjson")" "$(wc -l <"$T/data/expected-rejects.txt")" "second run: no dead letter twice"

# The stream has ended: --flush-open writes the open windows too; the files already there are untouched.
model expect "$T/data" 300 300 300 "$topic" turnstile --flush-open >/dev/null
expect_exit 0 "consume -e --flush-open: the open windows written" -- \
  consume -t "$topic" -G "one-$topic" --lake-dir "$T/lake1" --dead-letter "$T/dead1.ndjson" -e --flush-open --json
model compare "$T/data" "$T/lake1" >"$T/compare1b.txt" && pass "after --flush-open the lake equals the whole model" ||
  { fail "after --flush-open the lake differs from the model"; cat "$T/compare1b.txt" >&2; }
expect_eq "$(sums "$T/lake1" | grep -cFf "$T/sums1.txt")" "$(wc -l <"$T/sums1.txt")" \
  "--flush-open: every file of the first run is still there with the same bytes"
expect_contains "$T/out" '"open_windows":0,' "--flush-open: no window left open"
expect_exit 0 "consume -e after --flush-open: nothing more" -- \
  consume -t "$topic" -G "one-$topic" --lake-dir "$T/lake1" -e --json
expect_contains "$T/out" '"files":0,' "after --flush-open: nothing written again"
cp "$T/expected-e.json" "$T/data/expected.json"

# --- another prefix on the same group is refused: it would write the same windows under other names ---
expect_exit 2 "resume with another --prefix is refused" -- \
  consume -t "$topic" -G "one-$topic" --lake-dir "$T/lake-other" --prefix other -e
expect_contains "$T/err" "prefix 'turnstile' (stored) vs 'other' (now)" "the refusal names the stored and the new prefix"

# --- a different window config on the same group is refused, unless forced ---------------------------
expect_exit 2 "resume with another --window is refused" -- \
  consume -t "$topic" -G "one-$topic" --lake-dir "$T/lake-other" --window 10m -e
expect_contains "$T/err" "window 5m (stored) vs 10m (now)" "the refusal names the stored and the new window"
expect_contains "$T/err" "--force-window-config" "the refusal says how to force it"
expect_eq "$(ls "$T/lake-other" 2>/dev/null | wc -l)" "0" "nothing written when refused"

# --- (2) SIGKILL at random moments, restart each time: byte-identical lake ---------------------------
kills=0
mkdir -p "$T/lake2"
# Progress: lake files and staged segments (the lake files of topic-wide windows come in merges).
files() { local n; n=$(find "$T/lake2" -type f | wc -l) || true; echo "${n:-0}"; }
for i in 1 2 3 4 5 6 7 8; do
  # Commits every 0.3 s: a kill lands between commits, never before all of them (the final run must resume).
  # Two window threads (the final run has the default): the guarantees hold whatever --threads is.
  consume_exec -t "$topic" -G "crash-$topic" --lake-dir "$T/lake2" --dead-letter "$T/dead2.ndjson" -e \
    --commit-interval 0.3 --threads 2 >/dev/null 2>"$T/kill$i.err" &
  pid=$!
  cleanup_hooks+=("kill -9 $pid 2>/dev/null")
  # Kill after a random amount of new progress (files written), so every kill lands mid-stream.
  target=$(( $(files) + 40 + RANDOM % 160 ))
  while kill -0 "$pid" 2>/dev/null && [ "$(files)" -lt "$target" ]; do sleep 0.02; done
  if ! kill -9 "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; break; fi  # it finished first
  kills=$((kills + 1))
  wait "$pid" 2>/dev/null || true
  echo "after kill $i: $(files) files"
done
[ "$kills" -ge 3 ] && pass "$kills consumers killed mid-run" || fail "only $kills kills landed mid-run"
code=0
consume -t "$topic" -G "crash-$topic" --lake-dir "$T/lake2" --dead-letter "$T/dead2.ndjson" -e --json >"$T/out" 2>"$T/err" || code=$?
# 3 when this run still met rejected messages, 0 when the killed runs had committed past all of them.
[ "$code" = 0 ] || [ "$code" = 3 ] && pass "final consume -e after the kills (exit $code)" ||
  { fail "final consume -e after the kills: exit $code"; cat "$T/err" >&2; }
grep -q '"replayed":[1-9]' "$T/out" && pass "the final run resumed from a checkpoint (re-read open windows)" ||
  fail "the final run did not resume from a checkpoint: $(cat "$T/out")"
expect_eq "$(sums "$T/lake2" | md5sum)" "$(md5sum <"$T/sums1.txt")" \
  "after SIGKILLs: same file list and sha256 of every file as the crash-free run"
expect_eq "$(find "$T/lake2" -name '*.tmp.*' | wc -l)" "0" "no temporary files left behind"
python3 - "$T/lake2" <<'PY' && pass "no segment is left of a window that is in the lake" || fail "segments of merged windows left"
import datetime, os, sys
lake = sys.argv[1]
seg = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(lake, ".mtastream")) for f in fs if "/segments" in d]
stamp = lambda s: (datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=int(s))).strftime("%Y%m%dT%H%M%S")
names = set(os.listdir(lake))
for path in seg:
    start, end = os.path.basename(path).split(".")[0].split("_")
    if any(n.endswith("_%s_%s.csv.gz" % (stamp(start), stamp(end))) for n in names):
        sys.exit("left: " + path)
PY
model rejects "$T/dead2.ndjson" | sort -u >"$T/rejects2.txt"
expect_eq "$(diff "$T/rejects2.txt" "$T/data/expected-rejects.txt" | wc -l)" "0" \
  "after SIGKILLs: every rejected message is in the dead-letter file"

# --- the layouts, and a SIGTERM stop that commits what is closed --------------------------------------
consume_exec -t "$topic" -G "term-$topic" --lake-dir "$T/lake3" --layout clean >/dev/null 2>"$T/term.err" &
pid=$!
# Stopped mid-stream: once the first closed windows are staged.
wait_until 600 "the first closed windows staged before SIGTERM" -- \
  sh -c '[ -n "$(find "$0" -type f -print -quit)" ]' "$T/lake3"
kill -TERM "$pid"
code=0; wait "$pid" || code=$?
expect_eq "$code" "3" "SIGTERM: clean stop (exit 3: rejected messages seen)"
consume -t "$topic" -G "term-$topic" --lake-dir "$T/lake3" --layout clean -e --json >"$T/out" 2>"$T/err" || true
grep -q '"replayed":[0-9]' "$T/out" && pass "resumed after SIGTERM" || fail "no summary after SIGTERM restart"
first=$(ls "$T/lake3" | sed -n 1p)
expect_eq "$(zcat "$T/lake3/$first" | head -1)" "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS" \
  "--layout clean: no index column"
expect_eq "$(ls "$T/lake3" | md5sum)" "$(awk '{print $2}' "$T/sums1.txt" | md5sum)" "clean layout: the same file names"
for f in $(awk '{print $2}' "$T/sums1.txt" | shuf -n 20 --random-source=<(yes)); do
  if ! diff -q <(zcat "$T/lake1/$f" | tail -n +2 | cut -d, -f2-) <(zcat "$T/lake3/$f" | tail -n +2) >/dev/null; then
    fail "$f: clean rows differ from original rows"
  fi
done
pass "clean layout rows equal the original layout's rows without the index"

# --- a later exact re-send: the same after a restart as in a run that never stopped ---------------------
# Partition 0 ends at 00:57 while partition 1 is at 02:00, so the idle rule (--idle-after 1h) moves p0's
# watermark to 00:55 and [00:50, 00:55) goes to the lake. Then exact copies of e (00:53, its window written:
# late, dead-lettered) and x (00:57, its window still open: a duplicate) are sent. A restart from the -e
# checkpoint replays x and e and must go on from the watermark of the commit, like a consumer that stayed up.
rtopic=resend-$$-$RANDOM
row() { echo "A001,R001,02-00-00,S1,1,IRT,09-23-23,$2,REGULAR,3,4,$1,2023-09-23 $2"; }
expect_exit 0 "topic create $rtopic" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$rtopic" -p 2
{ row x 00:57:00; row e 00:53:00; } | kcat -P -b "$BOOTSTRAP" -t "$rtopic" -p 0 2>/dev/null
row y 02:00:00 | kcat -P -b "$BOOTSTRAP" -t "$rtopic" -p 1 2>/dev/null
written=turnstile_${rtopic}_20230923T005000_20230923T005500.csv.gz
expect_exit 0 "re-send: first consume -e" -- \
  consume -t "$rtopic" -G "restart-$rtopic" --lake-dir "$T/resend-r" --dead-letter "$T/resend-r.ndjson" -e --json
cp "$T/out" "$T/resend-r1.json"
[ -f "$T/resend-r/$written" ] && pass "re-send: the idle rule wrote [00:50, 00:55)" || fail "re-send: $written not written"
# The reference stays up: it reads what is there, writes the idle window, then reads the copies.
consume_exec -t "$rtopic" -G "up-$rtopic" --lake-dir "$T/resend-u" --dead-letter "$T/resend-u.ndjson" --json \
  >"$T/resend-u.json" 2>"$T/resend-u.err" &
up=$!
cleanup_hooks+=("kill -9 $up 2>/dev/null")
until [ -f "$T/resend-u/$written" ] || ! kill -0 "$up" 2>/dev/null; do sleep 0.05; done
{ row e 00:53:00; row x 00:57:00; } | kcat -P -b "$BOOTSTRAP" -t "$rtopic" -p 0 2>/dev/null
expect_exit 3 "re-send: consume -e after the restart (exit 3: the late copy)" -- \
  consume -t "$rtopic" -G "restart-$rtopic" --lake-dir "$T/resend-r" --dead-letter "$T/resend-r.ndjson" -e --json
cp "$T/out" "$T/resend-r2.json"
until "$MTASTREAM" -b "$BOOTSTRAP" status -t "$rtopic" -G "up-$rtopic" --max-lag 0 >/dev/null 2>&1 ||
  ! kill -0 "$up" 2>/dev/null; do sleep 0.1; done
kill -TERM "$up" 2>/dev/null || true
code=0; wait "$up" || code=$?
expect_eq "$code" "3" "re-send: the consumer that stayed up stops on SIGTERM (exit 3: the late copy)"
counts() { python3 -c 'import json,sys; d=[json.load(open(f)) for f in sys.argv[1:]]; print("late", sum(x["late"] for x in d), "duplicates", sum(x["duplicates"] for x in d))' "$@"; }
expect_eq "$(counts "$T/resend-r1.json" "$T/resend-r2.json")" "late 1 duplicates 1" "re-send after a restart: e late, x a duplicate"
expect_eq "$(counts "$T/resend-u.json")" "late 1 duplicates 1" "re-send, no restart: e late, x a duplicate"
expect_eq "$(cat "$T/resend-r.ndjson")" "$(cat "$T/resend-u.ndjson")" "re-send: the same dead letters with and without a restart"
expect_contains "$T/resend-r.ndjson" "\"source\":\"$rtopic/0@2\",\"reason\":\"late:" "re-send: the late copy is dead-lettered with the reason"
expect_eq "$(sums "$T/resend-r")" "$(sums "$T/resend-u")" "re-send: the same lake with and without a restart"

# --- -e must not hang a cron job: no broker, or no partition for this member -----------------------------
expect_exit 1 "consume -e with no broker listening: exit 1 after --assignment-timeout" -- \
  "$MTASTREAM" -b 127.0.0.1:1 consume -t "$topic" -G "nobroker-$topic" --lake-dir "$T/lake-nobroker" -e \
  --assignment-timeout 3
expect_contains "$T/err" "no partition of '$topic' was assigned to this member of group 'nobroker-$topic' within 3s: is the broker at 127.0.0.1:1 reachable" \
  "the error names the topic, group, timeout and broker"
expect_eq "$(find "$T/lake-nobroker" -name '*.csv.gz' 2>/dev/null | wc -l)" "0" "no lake file without a broker"

# --- --watermark 0 is a delay like any other (aggregate takes it too): a window closes as soon as a
# partition's event time passes its end; what comes after it is late ------------------------------------
model expect "$T/data" 300 300 0 "$topic" turnstile >/dev/null
expect_exit 3 "consume -e --watermark 0 (rejected messages make exit 3)" -- \
  consume -t "$topic" -G "wm0-$topic" --lake-dir "$T/lake-wm0" --dead-letter "$T/dead-wm0.ndjson" --watermark 0 -e --json
model compare "$T/data" "$T/lake-wm0" >"$T/compare-wm0.txt" && pass "--watermark 0: the lake equals the model" ||
  { fail "--watermark 0: the lake differs from the model"; cat "$T/compare-wm0.txt" >&2; }
read -r late0 < <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["late"])' "$T/data/expected-counts.json")
expect_contains "$T/out" "\"late\":$late0," "--watermark 0: $late0 late (as the model; $late with the default delay)"
model rejects "$T/dead-wm0.ndjson" >"$T/rejects-wm0.txt"
expect_eq "$(diff "$T/rejects-wm0.txt" "$T/data/expected-rejects.txt" | wc -l)" "0" \
  "--watermark 0: dead letters are exactly the model's late and bad messages"

finish
