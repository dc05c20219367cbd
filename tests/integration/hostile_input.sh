#!/usr/bin/env bash
# Hostile input through the binary: 1 MB lines, NUL bytes, invalid UTF-8, 10,000 fields, numbers past
# 64 bits, timestamps in year 9999 and before 1970, path tricks (../../etc/x, /abs, ..) in every field and
# name that could reach a file name, for aggregate, replay, produce to the embedded broker and consume.
# Each case: exit code as documented (3 when input was rejected), an error naming file:line (or
# topic/partition@offset) and the reason, valid lines still flow, and nothing is written outside the lake
# directory (a find listing of the sandbox before and after). Many distinct keys: peak RSS measured with
# /usr/bin/time -v (memory follows open windows x keys, not messages); past --max-keys the run stops, saying why.
source "$(dirname "$0")/lib.sh"

# The sandbox: the commands run in $box/a/b/work, so "../../etc/x" resolved from there stays inside $T.
box=$T/sandbox
work=$box/a/b/work
mkdir -p "$work"
cd "$work"
in_lake_only() {  # every file under lake/ is a regular file directly in it, with a sanitized name
  local bad
  bad=$(find lake -mindepth 1 \( -type d -o -type l -o -name '.*' \) 2>/dev/null | head -3 || true)
  expect_eq "$bad" "" "$1: lake holds only plain files, no sub-directories or dot files"
}

msg() {  # msg N [CA] [UNIT] [SCP] [STATION] [TIMESTAMP]: a valid message line (DATE/TIME from TIMESTAMP)
  local n=$1 ca=${2:-A002} unit=${3:-R051} scp=${4:-02-00-00} station=${5:-59 ST} ts=${6:-2017-06-10 00:01:00}
  local d=${ts:0:10} tm=${ts:11:8}
  printf '%s,%s,%s,%s,NQR456W,BMT,%s-%s-%s,%s,REGULAR,%d,7,00000000-0000-4000-8000-%012d,%s\n' \
    "$ca" "$unit" "$scp" "$station" "${d:5:2}" "${d:8:2}" "${d:2:2}" "$tm" "$n" "$n" "$ts"
}

# --- aggregate: every kind of bad line between valid ones --------------------------------------------
{
  msg 1
  head -c 1100000 /dev/zero | tr '\0' 'x'; echo                     # 2: a 1.1 MB line
  msg 3
  msg 4 | sed 's/REGULAR/REG\x00ULAR/'                                # 4: a NUL byte
  msg 5 | sed 's/^A002/A\xff\xfe2/'                                   # 5: invalid UTF-8
  python3 -c "print(','.join(['f'] * 10000))"                         # 6: 10,000 fields
  msg 7 | sed 's/REGULAR,7,/REGULAR,18446744073709551616,/'           # 7: past 64 bits
  msg 8 | sed 's/,7,0000/,99999999999999999999999999999,0000/'        # 8: far past 64 bits
  msg 9 "../../etc/x" "/abs" ".." ".."                                # 9: path tricks as field values: fine
  msg 10 | sed 's/2017-06-10 00:01:00/2017-06-10 00:01:00\xc0/'       # 10: junk after the timestamp
  printf '\n'                                                         # 11: empty line
  msg 12 | tr -d '\n'                                                 # 12: last line without a newline
} >"$box/hostile.csv"
{ msg 1 A A A A "0001-01-01 00:00:00"; msg 2 A A A A "1969-12-31 23:58:00"; msg 3 A A A A "9999-12-31 23:50:00"; } >"$box/edges.csv"
mkdir -p "$box/in"
# Two odd input names, each with its own later windows (no late events across the two runs' inputs).
cp "$box/edges.csv" "$box/in/..evil..name.csv"
{ msg 1 B B B B "2020-01-01 00:00:00"; } >"$box/in/-"
head -5 "$SHARED_DATA/mta/turnstile_170617.txt" >"$box/batch.txt"
{
  head -c 1100000 /dev/zero | tr '\0' 'y'; echo
  printf 'A002,R051,02-00-00,59 ST,NQR456W,BMT,06/10/2017,16:00:00,REG\0ULAR,0006215258,0002104297\n'
  python3 -c "print(','.join(['f'] * 10000))"
  echo "A002,R051,02-00-00,59 ST,NQR456W,BMT,06/10/2017,20:00:00,REGULAR,99999999999999999999,0002104297"
  echo "../../etc/x,/abs,..,..,NQR456W,BMT,06/10/2017,00:00:00,REGULAR,0000000001,0000000001"
  echo "../../etc/x,/abs,..,..,NQR456W,BMT,06/10/2017,04:00:00,REGULAR,0000000011,0000000002"
  echo "A002,R051,02-00-00,59 ST,NQR456W,BMT,12/31/9999,20:00:00,REGULAR,0006215999,0002104297"
  echo "A002,R051,02-00-00,59 ST,NQR456W,BMT,12/31/1969,20:00:00,REGULAR,0006215000,0002104297"
} >>"$box/batch.txt"

# Every input is in place: from here on, anything new in the sandbox must be allowed explicitly.
snapshot() { (cd "$box" && find . -path ./a/b/work/lake -prune -o -print | sort); ls -a / | sort | sed 's|^|/|'; }
# check_sandbox WHAT ALLOWED...: only the ALLOWED paths (relative to $box) may be new besides the lake dir.
before=$T/before.txt
snapshot >"$before"
check_sandbox() {
  local what=$1; shift
  local allowed=" $* "
  local extra
  extra=$(comm -13 "$before" <(snapshot) | while read -r p; do [[ $allowed == *" $p "* ]] || echo "$p"; done)
  if [ -z "$extra" ]; then pass "$what: nothing written outside the lake dir"; else
    fail "$what: written outside the lake dir: $(echo "$extra" | tr '\n' ' ')"; fi
}
expect_exit 3 "aggregate of hostile lines: exit 3 (partial)" -- \
  "$MTASTREAM" aggregate --lake-dir lake --dead-letter dead.ndjson --json "$box/hostile.csv"
cp "$T/err" "$T/agg.err"
expect_contains "$T/agg.err" "hostile.csv:2: line longer than 1048576 bytes" "1 MB line named by file:line"
expect_contains "$T/agg.err" "hostile.csv:4: DESC 'REG\x00ULAR' contains a control character" "NUL byte named"
expect_contains "$T/agg.err" "hostile.csv:5: CA 'A\xff\xfe2' is not valid UTF-8" "invalid UTF-8 named"
expect_contains "$T/agg.err" "hostile.csv:6: expected 13 comma-separated fields, found 10000" "10,000 fields named"
expect_contains "$T/agg.err" "hostile.csv:7: ENTRIES '18446744073709551616' does not fit a 64-bit signed integer" "2^64 named"
expect_contains "$T/agg.err" "hostile.csv:8: EXITS '99999999999999999999999999999' does not fit" "huge number named"
expect_contains "$T/agg.err" "hostile.csv:10: TIMESTAMP" "junk after the timestamp named"
expect_contains "$T/out" '"accepted":4' "the 4 valid lines (1, 3, 9, 12) flowed"
expect_contains "$T/out" '"bad":7' "7 bad lines counted"
expect_eq "$(wc -l <dead.ndjson)" 7 "7 dead letters"
expect_eq "$(zcat lake/*.csv.gz | grep -c '^[0-9]')" 2 "lake rows: the A002 turnstile and the ../../etc/x one"
expect_contains <(zcat lake/*.csv.gz) "../../etc/x,/abs,..,..,NQR456W" "path-like field values are data, kept as is"
in_lake_only aggregate
check_sandbox "aggregate" ./a/b/work/dead.ndjson

# Time at the edges: before 1970 (negative seconds: windows must still align), year 0001, year 9999.
expect_exit 0 "aggregate of years 0001, 1969 and 9999: exit 0" -- \
  "$MTASTREAM" aggregate --layout clean -o - "$box/edges.csv"
expect_contains "$T/out" "A,A,A,A,NQR456W,BMT,01/01/1970,00:00:00,REGULAR,2,7" \
  "1969-12-31 23:58 falls in the window ending 01/01/1970 00:00:00"
expect_contains "$T/out" "01/01/0001,00:05:00" "year 0001 window ends 00:05"
expect_eq "$(grep -c REGULAR "$T/out")" 3 "all three windows written"
expect_contains "$T/out" "12/31/9999,23:55:00" "year 9999 window ends 23:55"
# A window ending at 10000-01-01 00:00:00 has no MM/DD/YYYY DATE: its event is rejected, named and kept aside.
{ cat "$box/edges.csv"; msg 4 A A A A "9999-12-31 23:58:00"; } >"$T/past-9999.csv"
expect_exit 3 "aggregate of an event whose window would end in year 10000: exit 3" -- \
  "$MTASTREAM" aggregate --layout clean -o - --dead-letter past-9999.ndjson "$T/past-9999.csv"
expect_contains "$T/err" "past-9999.csv:4: TIMESTAMP 9999-12-31 23:58:00: a window of it would end after 9999-12-31 23:59:59" \
  "the error names file:line and why"
expect_eq "$(grep -c REGULAR "$T/out")" 3 "the other three windows still written"
expect_not_contains "$T/out" "10000" "no DATE in year 10000"
expect_eq "$(grep -c '9999-12-31 23:58:00' past-9999.ndjson)" 1 "the event is in the dead-letter file"
rm -f past-9999.ndjson
check_sandbox "aggregate -o -" ./a/b/work/dead.ndjson

# Names that reach lake file names: --prefix, the input file's name, --lake-dir.
for prefix in "../../etc/x" "/abs" ".." "." "" "a/b" "-x" "$(printf 'a\nb')"; do
  rm -rf lake
  expect_exit 0 "aggregate --prefix '${prefix//$'\n'/\\n}'" -- "$MTASTREAM" aggregate --lake-dir lake --prefix "$prefix" "$box/edges.csv"
  expect_eq "$(find lake -type f | wc -l)" 3 "--prefix '$prefix': 3 files, in the lake dir itself"
  in_lake_only "--prefix '$prefix'"
done
rm -rf lake
expect_exit 0 "input file named ..evil..name.csv" -- "$MTASTREAM" aggregate --lake-dir lake "$box/in/..evil..name.csv"
expect_exit 0 "input file named -, given as a path" -- "$MTASTREAM" aggregate --lake-dir lake "$box/in/-"
expect_eq "$(find lake -type f | wc -l)" 4 "odd input names: 4 files in the lake dir itself"
in_lake_only "odd input names"
odd="lake dir; \$(touch pwned) 'q'"
expect_exit 0 "an odd --lake-dir name is just a directory" -- "$MTASTREAM" aggregate --lake-dir "$odd" "$box/edges.csv"
expect_eq "$(find "$odd" -type f -name '*.csv.gz' | wc -l)" 3 "odd --lake-dir holds the 3 files"
[ -e pwned ] && fail "a shell expansion ran" || pass "no shell expansion of --lake-dir"
check_sandbox "prefixes and names" ./a/b/work/dead.ndjson "./a/b/work/$odd" \
  $(cd "$box" && find "./a/b/work/$odd" -type f | tr '\n' ' ')
rm -rf "$odd"

# --- replay: hostile batch rows -------------------------------------------------------------------------
expect_exit 3 "replay of hostile batch rows: exit 3" -- \
  "$MTASTREAM" replay -o - --as-fast-as-possible --dead-letter replay-dead.ndjson "$box/batch.txt"
cp "$T/out" "$T/replay.out"; cp "$T/err" "$T/replay.err"
expect_contains "$T/replay.err" "batch.txt:6" "1 MB batch line named by file:line"
expect_contains "$T/replay.err" "batch.txt:7" "NUL batch row named"
expect_contains "$T/replay.err" "batch.txt:8" "10,000-field row named"
expect_contains "$T/replay.err" "batch.txt:9" "counter past 64 bits named"
expect_contains "$T/replay.out" "../../etc/x,/abs,..,..,NQR456W,BMT,06-10-17,04:00:00,REGULAR,10,1," \
  "the ../../etc/x turnstile's delta flows as data"
check_sandbox "replay" ./a/b/work/dead.ndjson ./a/b/work/replay-dead.ndjson

# --- produce to the embedded broker, consume back -----------------------------------------------------
"$MTASTREAM" broker --topic events:2 >"$T/broker.out" 2>"$T/broker.err" &
broker_pid=$!
cleanup_hooks+=("kill $broker_pid 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/broker.out" ] && break; sleep 0.1; done
BOOTSTRAP=$(sed -n 's/^BOOTSTRAP=//p' "$T/broker.out" | head -1)
[ -n "$BOOTSTRAP" ] || { fail "embedded broker printed no BOOTSTRAP line"; cat "$T/broker.err" >&2; finish; }

expect_exit 3 "produce of hostile lines: exit 3" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" produce -t events --dead-letter produce-dead.ndjson --json "$box/hostile.csv"
expect_contains "$T/err" "hostile.csv:5: CA 'A\xff\xfe2' is not valid UTF-8" "produce names the invalid UTF-8 line"
expect_contains "$T/err" "hostile.csv:6: expected 13 comma-separated fields, found 10000" "produce names the 10,000 fields"
expect_contains "$T/out" '"delivered":4' "produce delivers the 4 valid lines"
# Raw bytes no producer of ours would send, straight onto the topic with kcat.
{ printf 'A\xff,x\n'; printf 'bin\0ary\n'; head -c 200000 /dev/zero | tr '\0' 'z'; echo; } |
  kcat -b "$BOOTSTRAP" -P -t events -p 0 2>/dev/null
expect_exit 3 "consume of hostile messages: exit 3" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" consume -t events -G hostile -e --lake-dir lake-consume --dead-letter consume-dead.ndjson --json
expect_contains "$T/err" "events/0@" "consume names topic/partition@offset"
expect_contains "$T/out" '"accepted":4' "consume: the 4 valid messages flowed"
expect_contains "$T/out" '"bad":3' "consume: the 3 raw hostile messages are bad"
expect_eq "$(wc -l <consume-dead.ndjson)" 3 "consume: 3 dead letters"
expect_exit 0 "consume --raw prints the hostile messages without failing" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" consume -t events --raw -e -o beginning
expect_eq "$(wc -l <"$T/out")" 7 "consume --raw: 7 messages, one a line"
for topic in "../../etc/x" "..x" "a.b_c-d"; do
  expect_exit 0 "produce to topic '$topic' on the embedded broker" -- \
    "$MTASTREAM" -b "$BOOTSTRAP" produce -t "$topic" "$box/edges.csv"
  expect_exit 0 "consume topic '$topic' to the lake" -- \
    "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "g$RANDOM" -e --flush-open --lake-dir lake-topics --prefix "../x"
done
expect_eq "$(find lake-topics -type f -name '*.csv.gz' | wc -l)" 9 "3 topics x 3 windows of files"
# consume past --max-keys: exit 1 naming topic/partition@offset, nothing committed; a rerun with a higher
# limit writes every key.
awk 'BEGIN{for(i=0;i<3000;i++) printf "K%07d,R001,00-00-00,S,1,IRT,09-23-23,00:00:00,REGULAR,1,1,k%d,2023-09-23 00:00:00\n", i, i}' |
  kcat -b "$BOOTSTRAP" -P -t many-keys -p 0 2>/dev/null  # one partition: one engine sees every key
expect_exit 1 "consume past --max-keys 1000: exit 1" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" consume -t many-keys -G keys -e --lake-dir lake-keys --max-keys 1000
expect_contains "$T/err" "many-keys/0@1251: the open windows would hold 1252 distinct group keys" \
  "consume names topic/partition@offset and the key count"
expect_exit 0 "consume of the same group with --max-keys 3000" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" consume -t many-keys -G keys -e --flush-open --lake-dir lake-keys --max-keys 3000 --json
expect_contains "$T/out" '"rows":3000' "all 3000 keys written after the rerun"
bad=$(find lake-topics -mindepth 1 -not -path 'lake-topics/.mtastream' -not -path 'lake-topics/.mtastream/*' \
  \( -type d -o -name '.*' \) | head -3)
expect_eq "$bad" "" "topic names never make sub-directories or dot files in the lake (beside the staging folder)"
bad=$(ls -A lake-topics/.mtastream | grep -v '^[A-Za-z0-9_][A-Za-z0-9._-]*$' | head -3 || true)
expect_eq "$bad" "" "staging folder names are sanitized like lake file names"
check_sandbox "produce/consume" ./a/b/work/dead.ndjson ./a/b/work/replay-dead.ndjson \
  ./a/b/work/produce-dead.ndjson ./a/b/work/consume-dead.ndjson ./a/b/work/lake-consume ./a/b/work/lake-topics \
  ./a/b/work/lake-keys $(cd "$box" && find ./a/b/work/lake-consume ./a/b/work/lake-topics ./a/b/work/lake-keys -mindepth 1 | tr '\n' ' ')

# --- many distinct keys: memory follows open windows x keys, not messages -----------------------------
# 1,000,000 messages whose keys churn (10,000 new turnstiles every 5 minutes) vs 100,000 of the same shape:
# peak RSS must not grow with the message count.
keys() {
  awk -v n="$1" 'BEGIN{for(i=0;i<n;i++){m=int(i/10000); printf "C%07d,R001,00-00-00,ST,1,IRT,06-10-17,00:00:00,REGULAR,1,1,%08d-0000-4000-8000-000000000000,2017-06-%02d %02d:%02d:00\n", i, i, 10+int(m/288), int((m%288)/12), (m%12)*5}}'
}
keys 100000 >"$box/keys-small.csv"
keys 1000000 >"$box/keys-big.csv"
rss() {  # peak RSS in KB of an aggregate run
  /usr/bin/time -v "$MTASTREAM" aggregate -o /dev/null "$1" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'
}
small=$(rss "$box/keys-small.csv"); big=$(rss "$box/keys-big.csv")
echo "peak RSS: 100,000 churning keys ${small} KB; 1,000,000 churning keys ${big} KB"
[ -n "$small" ] && [ -n "$big" ] && [ "$big" -lt $((small * 2 + 20000)) ] &&
  pass "RSS bounded: 10x the messages and distinct keys, RSS ${small} -> ${big} KB" ||
  fail "RSS grows with distinct keys over time: ${small} -> ${big} KB"
# Distinct keys that do not churn (all in one window): past --max-keys the run stops and says why,
# naming the line; the default limit (1,000,000) is 200 times the real network's turnstiles.
awk 'BEGIN{for(i=0;i<300000;i++) printf "K%07d,R001,00-00-00,S,1,IRT,09-23-23,00:00:00,REGULAR,1,1,k%d,2023-09-23 00:00:00\n", i, i}' \
  >"$T/keys-one-window.csv"
expect_exit 1 "300,000 distinct keys in one window with --max-keys 100000: exit 1" -- \
  "$MTASTREAM" aggregate --max-keys 100000 -o /dev/null "$T/keys-one-window.csv"
expect_contains "$T/err" "keys-one-window.csv:125002: the open windows would hold 125002 distinct group keys" \
  "the error names the line and the key count"
expect_contains "$T/err" "over the limit of 100000" "the error names the limit"
expect_exit 0 "the same 300,000 keys under --max-keys 300000" -- \
  "$MTASTREAM" aggregate --max-keys 300000 --json "$T/keys-one-window.csv" --lake-dir "$T/keys-lake"
expect_contains "$T/out" '"rows":300000' "300,000 rows written"
expect_exit 2 "--max-keys 0 is a usage error" -- "$MTASTREAM" aggregate --max-keys 0 "$T/keys-one-window.csv"
rm -rf "$box"/keys-*.csv "$T/keys-one-window.csv" "$T/keys-lake"
finish
