#!/usr/bin/env bash
# The embedded broker (librdkafka mock cluster) with produce, topic and kcat as a peer: fast, no JVM.
source "$(dirname "$0")/lib.sh"

start_embedded_broker() {
  rm -f "$T/broker.out"
  "$MTASTREAM" broker "$@" --bootstrap-file "$T/broker.out" >"$T/broker.stdout" 2>"$T/broker.err" &
  broker_pid=$!
  cleanup_hooks+=("kill $broker_pid 2>/dev/null")
  wait_until 300 "the broker writes its bootstrap file" -- test -s "$T/broker.out" || true
  BOOTSTRAP=$(sed -n 's/^BOOTSTRAP=//p' "$T/broker.out" | head -1)
  [ -n "$BOOTSTRAP" ] || { fail "broker printed no BOOTSTRAP line"; cat "$T/broker.err" >&2; finish; }
}

start_embedded_broker --brokers 2 --topic events:3 --topic other
expect_eq "$(head -c 10 "$T/broker.stdout")" "BOOTSTRAP=" "broker's first stdout line is BOOTSTRAP=..."

expect_exit 2 "bad --topic spec is a usage error" -- "$MTASTREAM" broker --topic events:zero
expect_contains "$T/err" "NAME:PARTITIONS" "bad --topic spec says the expected form"

# topic list/describe work; create and delete say the embedded broker cannot.
expect_exit 0 "topic list on the embedded broker" -- "$MTASTREAM" -b "$BOOTSTRAP" topic list
expect_contains "$T/out" "events" "topic list shows events"
expect_contains "$T/out" "other" "topic list shows other"
expect_exit 0 "topic describe on the embedded broker" -- "$MTASTREAM" -b "$BOOTSTRAP" topic describe events --json
expect_contains "$T/out" '"partitions":3' "describe shows 3 partitions"
expect_exit 1 "topic create on the embedded broker fails" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create fresh -p 2
expect_contains "$T/err" "mtastream broker" "topic create explains the embedded broker's limit"
expect_contains "$T/err" "--topic NAME:PARTITIONS" "topic create says what to do instead"

# produce a file, read it back with kcat: same lines, each once, keyed by turnstile.
awk 'BEGIN{for(i=1;i<=5000;i++) printf "A%03d,R%03d,02-00-%02d,Station %d,456NQR,BMT,09-23-23,16:54:00,REGULAR,%d,%d,00000000-0000-4000-8000-%012d,2023-09-23 16:54:00\n", i%50, i%7, i%13, i%100, i%11, i%9, i}' >"$T/in.csv"
expect_exit 0 "produce 5000 lines to the embedded broker" -- "$MTASTREAM" -b "$BOOTSTRAP" produce -t events --json "$T/in.csv"
expect_contains "$T/out" '"delivered":5000' "json summary counts 5000 delivered"
kcat -b "$BOOTSTRAP" -C -t events -e -q -f '%k|%s\n' >"$T/back.txt"
expect_eq "$(wc -l <"$T/back.txt")" "5000" "kcat reads back 5000 messages"
expect_eq "$(cut -d'|' -f2 "$T/back.txt" | sort | md5sum)" "$(sort "$T/in.csv" | md5sum)" "read-back content equals the file"
expect_eq "$(awk -F'|' '{split($2,f,","); if ($1 != f[1]","f[2]","f[3]) bad++} END{print bad+0}' "$T/back.txt")" "0" \
  "every key is CA,UNIT,SCP"

# Value formats and keys; stdin input.
head -3 "$T/in.csv" | "$MTASTREAM" -b "$BOOTSTRAP" produce -t asjson --value-format json --key id 2>"$T/err" || fail "stdin json"
kcat -b "$BOOTSTRAP" -C -t asjson -e -q -f '%k|%s\n' >"$T/json.txt"
expect_contains "$T/json.txt" '00000000-0000-4000-8000-000000000001|{"CA":"A001","UNIT":"R001"' "json value keyed by id"
head -1 "$T/in.csv" | "$MTASTREAM" -b "$BOOTSTRAP" produce -t asstring --value-format json-string --key none 2>"$T/err" || fail "json-string"
kcat -b "$BOOTSTRAP" -C -t asstring -e -q -f '%K|%s\n' >"$T/string.txt"
expect_contains "$T/string.txt" "-1|\"A001,R001,02-00-01" "json-string value with a null key"

# Generators.
expect_exit 0 "generate original" -- "$MTASTREAM" -b "$BOOTSTRAP" produce -t gen --generate original --count 3 --interval 0.05 --seed 7 --json
expect_contains "$T/out" '"delivered":3' "original generator delivered 3"
kcat -b "$BOOTSTRAP" -C -t gen -e -q >"$T/gen.txt"
expect_eq "$(grep -cE '^A00[12],R00[12],02-00-00,Test-Station[12],456NQR,BMT,[0-9]{2}-[0-9]{2}-[0-9]{2},[0-9:]{8},REGULAR,([5-9]|10),([5-9]|10),[0-9a-f-]{36},' "$T/gen.txt")" \
  "3" "original generator's messages have the original's shape"
expect_exit 0 "generate city" -- "$MTASTREAM" -b "$BOOTSTRAP" produce -t city --generate city --rate 0 --count 20000 --seed 1 --start-time "2023-09-23 00:00:00" --json
expect_contains "$T/out" '"delivered":20000' "city generator delivered 20000"
expect_eq "$(kcat -b "$BOOTSTRAP" -C -t city -e -q -f '%k\n' | sort -u | wc -l)" "4000" "city generator spans 4000 turnstiles"

# SIGINT stops a generator without -c cleanly (a signal is its normal end): what was sent is delivered, exit 0.
"$MTASTREAM" -b "$BOOTSTRAP" produce -t stopped --generate city --rate 2000 --json >"$T/sig.out" 2>"$T/sig.err" &
producer_pid=$!
# Stopped mid-run: once some of its messages are in the topic.
wait_until 300 "the generator's first messages in the topic" -- \
  sh -c '[ "$(kcat -b "$0" -C -t stopped -e -q -c 100 | wc -l)" -ge 100 ]' "$BOOTSTRAP"
kill -INT "$producer_pid"
code=0; wait "$producer_pid" || code=$?
expect_eq "$code" "0" "SIGINT: exit 0 when everything sent was delivered"
expect_contains "$T/sig.out" '"interrupted":true' "SIGINT: summary says interrupted"
sent=$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' "$T/sig.out")
delivered=$(sed -n 's/.*"delivered":\([0-9]*\).*/\1/p' "$T/sig.out")
expect_eq "$delivered" "$sent" "SIGINT: delivered = sent"
expect_eq "$(kcat -b "$BOOTSTRAP" -C -t stopped -e -q | wc -l)" "$sent" "SIGINT: the topic holds exactly what was sent"

# SIGINT while waiting on stdin: what was read is delivered; the input was cut short, so exit 130.
mkfifo "$T/fifo"
"$MTASTREAM" -b "$BOOTSTRAP" produce -t fromstdin --json <"$T/fifo" >"$T/stdin.out" 2>"$T/stdin.err" &
producer_pid=$!
exec 3>"$T/fifo"
head -3 "$T/in.csv" >&3
# Interrupted once the 3 lines were read and delivered, while it waits for more.
wait_until 300 "the 3 lines from stdin in the topic" -- \
  sh -c '[ "$(kcat -b "$0" -C -t fromstdin -e -q -c 3 | wc -l)" -ge 3 ]' "$BOOTSTRAP"
kill -INT "$producer_pid"
code=0; wait "$producer_pid" || code=$?
exec 3>&-
expect_eq "$code" "130" "SIGINT on a waiting stdin: exit 130 (interrupted)"
expect_contains "$T/stdin.out" '"delivered":3' "SIGINT on a waiting stdin: the 3 lines read were delivered"
expect_contains "$T/stdin.out" '"input_complete":false' "SIGINT on a waiting stdin: the input is not reported complete"
expect_eq "$(kcat -b "$BOOTSTRAP" -C -t fromstdin -e -q | wc -l)" "3" "SIGINT on a waiting stdin: the topic holds 3"

# One message that cannot go (too large for message.max.bytes): the rest delivered, exit 3, file:line named,
# kept in the dead-letter file with the reason.
x250=$(printf 'x%.0s' $(seq 250))
{ head -5 "$T/in.csv"
  echo "A001,R001,02-00-00,$x250,$x250,$x250,09-23-23,16:54:00,$x250,1,1,00000000-0000-4000-8000-999999999999,2023-09-23 16:54:00"
  sed -n 6,10p "$T/in.csv"; } >"$T/big.csv"
expect_exit 3 "an undeliverable message makes exit 3" -- "$MTASTREAM" -b "$BOOTSTRAP" -X message.max.bytes=1000 produce -t big --dead-letter "$T/big.dl" --json "$T/big.csv"
expect_contains "$T/out" '"delivered":10' "the 10 other messages are delivered"
expect_contains "$T/out" '"failed":1' "the large one is counted as failed"
expect_contains "$T/err" "$T/big.csv:6: not delivered" "the undelivered message is named file:line"
expect_contains "$T/big.dl" "\"source\":\"$T/big.csv:6\",\"reason\":\"not delivered" "the undelivered message is in the dead-letter file"
expect_eq "$(kcat -b "$BOOTSTRAP" -C -t big -e -q | wc -l)" "10" "the topic holds the 10 others"

# A UTF-8 byte order mark at the start of a file (Excel's "CSV UTF-8") is not data: a CSV header line, a CSV
# line and an NDJSON line after one are read as without it.
bom=$'\xEF\xBB\xBF'
{ printf '%s' "$bom"; echo "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS,ID,TIMESTAMP"; head -2 "$T/in.csv"; } >"$T/bom-header.csv"
{ printf '%s' "$bom"; head -2 "$T/in.csv"; } >"$T/bom-line.csv"
"$MTASTREAM" replay --value-format json "$SHARED_DATA/mta/turnstile_170617.txt" 2>/dev/null | head -2 >"$T/plain.ndjson" || true
{ printf '%s' "$bom"; cat "$T/plain.ndjson"; } >"$T/bom.ndjson"
for f in bom-header.csv bom-line.csv bom.ndjson; do
  expect_exit 0 "produce $f: nothing rejected" -- "$MTASTREAM" -b "$BOOTSTRAP" produce -t "bom-${f%%.*}" --json "$T/$f"
  expect_contains "$T/out" '"rejected":0' "produce $f: the first line is accepted"
  kcat -b "$BOOTSTRAP" -C -t "bom-${f%%.*}" -e -q >"$T/bom-got" 2>/dev/null
  expect_eq "$(wc -l <"$T/bom-got")" 2 "produce $f: 2 messages in the topic"
  expect_not_contains "$T/bom-got" "$bom" "produce $f: no byte order mark in the messages"
done

# Nothing can be delivered: exit 1, the reason named.
expect_exit 1 "unreachable broker: exit 1" -- "$MTASTREAM" -b 127.0.0.1:1 -X message.timeout.ms=1500 produce -t x "$T/in.csv"
expect_contains "$T/err" "not delivered" "unreachable broker: undelivered messages reported"

kill -TERM "$broker_pid"
code=0; wait "$broker_pid" || code=$?
expect_eq "$code" "0" "broker stops on SIGTERM with exit 0"
# The help's own example for a background broker, run as printed (mtastream on PATH): it returns with the address.
mkdir -p "$T/bin" "$T/example"
ln -sf "$MTASTREAM" "$T/bin/mtastream"
"$MTASTREAM" broker --help | sed -n '/# in a script/,/echo "$BOOTSTRAP"/p' | sed 's/^  //' >"$T/example/run.sh"
expect_eq "$(wc -l <"$T/example/run.sh")" "3" "broker --help shows the background example"
echo 'mtastream -b "$BOOTSTRAP" topic list >topics.txt; kill %1' >>"$T/example/run.sh"
code=0; (cd "$T/example" && PATH="$T/bin:$PATH" timeout 60 bash -e run.sh >example.out 2>example.err) || code=$?
expect_eq "$code" "0" "the broker --help background example returns"
expect_contains "$T/example/example.out" "127.0.0.1:" "the example prints the broker's address"
expect_contains "$T/example/topics.txt" "mta-turnstile" "the address from --bootstrap-file serves the topic"

# consume -e when the broker dies mid-run: exit 1 saying so, never 0 with the topic half read.
kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true
start_embedded_broker --topic doomed:2
expect_exit 0 "produce 150000 events for the broker-loss case" -- "$MTASTREAM" -b "$BOOTSTRAP" produce -t doomed \
  --generate city --count 150000 --rate 0 --start-time "2023-09-23 00:00:00" --step 5m -q
# Small fetches keep the run going for a while after the group join.
"$MTASTREAM" -b "$BOOTSTRAP" -X message.max.bytes=20000 -X fetch.max.bytes=20000 -X max.partition.fetch.bytes=20000 consume -t doomed -G lost -e \
  --lake-dir "$T/doomed" --assignment-timeout 5 --json >"$T/doomed.out" 2>"$T/doomed.err" &
consumer=$!
cleanup_hooks+=("kill -9 $consumer 2>/dev/null")
wait_until 300 "the consumer is assigned its partitions" -- grep -q "assigned partitions" "$T/doomed.err"
kill -9 "$broker_pid"
code=0; wait "$consumer" || code=$?
expect_eq "$code" 1 "consume -e after the broker died: exit 1"
expect_contains "$T/doomed.err" "gone?" "the error says the broker may be gone"
expect_empty "$T/doomed.out" "no summary on stdout after the failure"

finish
