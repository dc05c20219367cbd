#!/usr/bin/env bash
# produce and topic against a real Apache Kafka broker (scripts/kafka-local.sh): exactly-once read-back,
# bad lines, topic admin, SASL PLAIN and SCRAM from a .properties file, and a broker restart mid-produce.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka

topic() { echo "produce-$1-$$-$RANDOM"; }
# N valid messages, each line unique (its ID and counts).
make_lines() {
  awk -v n="$1" 'BEGIN{for(i=1;i<=n;i++) printf "A%03d,R%03d,02-00-%02d,Station %d,456NQR,BMT,09-23-23,16:54:00,REGULAR,%d,%d,00000000-0000-4000-8000-%012d,2023-09-23 16:54:00\n", i%50, i%7, i%13, i%100, i%11, i%9, i}'
}
read_back() { kcat -b "$BOOTSTRAP" -C -t "$1" -e -q "${@:2}"; }

# --- a file, read back exactly once ---------------------------------------------------------------
make_lines 20000 >"$T/in.csv"
t=$(topic file)
expect_exit 0 "topic create with 3 partitions" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$t" -p 3 -r 1
expect_exit 0 "produce 20000 lines" -- "$MTASTREAM" -b "$BOOTSTRAP" produce -t "$t" --json "$T/in.csv"
expect_contains "$T/out" '"delivered":20000' "summary: 20000 delivered"
expect_contains "$T/out" '"failed":0' "summary: 0 failed"
read_back "$t" -f '%k|%s\n' >"$T/back.txt"
expect_eq "$(wc -l <"$T/back.txt")" "20000" "read back 20000 messages"
expect_eq "$(cut -d'|' -f2 "$T/back.txt" | sort | md5sum)" "$(sort "$T/in.csv" | md5sum)" "read-back content equals the file (each line once)"
expect_eq "$(read_back "$t" -f '%k %p\n' | sort -u | awk '{print $1}' | uniq -d | wc -l)" "0" "one turnstile's messages stay in one partition"

# gzip input and NDJSON (JSON objects) become CSV values.
head -100 "$T/in.csv" | gzip >"$T/in.csv.gz"
t=$(topic gz)
expect_exit 0 "produce a .gz file" -- "$MTASTREAM" -b "$BOOTSTRAP" produce -t "$t" "$T/in.csv.gz"
expect_eq "$(read_back "$t" | sort | md5sum)" "$(head -100 "$T/in.csv" | sort | md5sum)" ".gz input delivered as its lines"

# --- a bad line in the middle: reported with file:line, kept aside, the rest delivered, exit 3 ------
{ make_lines 500; echo "A001,R001,02-00-00,Station,456NQR,BMT,09-23-23,16:54:00,REGULAR,many,9,bad-id,2023-09-23 16:54:00"; make_lines 1000 | tail -500; } >"$T/bad.csv"
t=$(topic bad)
expect_exit 3 "a bad line makes exit 3" -- "$MTASTREAM" -b "$BOOTSTRAP" produce -t "$t" --dead-letter "$T/dead.ndjson" --json "$T/bad.csv"
expect_contains "$T/err" "$T/bad.csv:501" "the bad line is named file:line"
expect_contains "$T/out" '"rejected":1' "summary: 1 rejected"
expect_contains "$T/out" '"delivered":1000' "summary: the other 1000 delivered"
expect_eq "$(wc -l <"$T/dead.ndjson")" "1" "dead-letter file holds the bad line"
expect_contains "$T/dead.ndjson" "\"source\":\"$T/bad.csv:501\"" "dead letter names file:line"
expect_contains "$T/dead.ndjson" "many" "dead letter keeps the line"
expect_eq "$(read_back "$t" | sort | md5sum)" "$(grep -v ',many,' "$T/bad.csv" | sort | md5sum)" "every good line delivered once"

# --- topic admin ----------------------------------------------------------------------------------
t=$(topic admin)
expect_exit 0 "topic create with a config" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$t" -p 4 --topic-config retention.ms=3600000 --json
expect_contains "$T/out" '"created":true' "create says created"
expect_contains "$T/out" '"partitions":4' "create waited for 4 partitions"
expect_exit 1 "creating it again fails" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$t" -p 4
expect_contains "$T/err" "already exists" "the error says it exists"
expect_exit 0 "--if-not-exists accepts an existing topic" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$t" -p 4 --if-not-exists --json
expect_contains "$T/out" '"created":false' "--if-not-exists reports created=false"
expect_exit 0 "topic list" -- "$MTASTREAM" -b "$BOOTSTRAP" topic list
expect_contains "$T/out" "$t" "topic list shows the topic"
expect_not_contains "$T/out" "__consumer_offsets" "topic list hides internal topics"
expect_exit 0 "topic describe" -- "$MTASTREAM" -b "$BOOTSTRAP" topic describe "$t"
expect_contains "$T/out" "partitions 4" "describe shows partitions"
expect_contains "$T/out" "partition 3  leader 1  replicas 1  isr 1" "describe shows leaders, replicas, isr"
expect_contains "$T/out" "retention.ms=3600000" "describe shows the topic config"
expect_exit 0 "topic describe --json" -- "$MTASTREAM" -b "$BOOTSTRAP" topic describe "$t" --json
expect_contains "$T/out" '"retention.ms":"3600000"' "describe --json has configs"
expect_exit 2 "bad --topic-config" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create x-$$ --topic-config novalue
expect_exit 0 "topic delete" -- "$MTASTREAM" -b "$BOOTSTRAP" topic delete "$t"
expect_exit 0 "topic list after delete" -- "$MTASTREAM" -b "$BOOTSTRAP" topic list
expect_not_contains "$T/out" "$t" "deleted topic is gone from the list"
expect_exit 1 "describe a deleted topic fails" -- "$MTASTREAM" -b "$BOOTSTRAP" topic describe "$t"
expect_contains "$T/err" "no topic" "describe says there is no such topic"
expect_exit 1 "delete a missing topic fails" -- "$MTASTREAM" -b "$BOOTSTRAP" topic delete "$t"
expect_exit 0 "delete --if-exists of a missing topic" -- "$MTASTREAM" -b "$BOOTSTRAP" topic delete "$t" --if-exists

# --- SASL from the original's .properties file ----------------------------------------------------
for mechanism in SCRAM-SHA-256 SCRAM-SHA-512 PLAIN; do
  if [ "$mechanism" = PLAIN ]; then user=$SASL_USER password=$SASL_PASSWORD; else user=$SCRAM_USER password=$SCRAM_PASSWORD; fi
  cat >"$T/client.properties" <<P
# like the original's cloud .properties
bootstrap.servers=$SASL_BOOTSTRAP
security.protocol=SASL_PLAINTEXT
sasl.mechanisms=$mechanism
sasl.username=$user
sasl.password=$password
P
  t=$(topic sasl)
  expect_exit 0 "produce over SASL_PLAINTEXT with $mechanism" -- "$MTASTREAM" --config "$T/client.properties" produce -t "$t" -v "$T/in.csv.gz"
  expect_not_contains "$T/err" "$password" "$mechanism: the password never reaches stderr (even with -v)"
  expect_eq "$(read_back "$t" | wc -l)" "100" "$mechanism: 100 messages delivered"
done
sed -i "s/^sasl.password=.*/sasl.password=wrong-$SCRAM_PASSWORD/; s/^sasl.username=.*/sasl.username=$SCRAM_USER/; s/^sasl.mechanisms=.*/sasl.mechanisms=SCRAM-SHA-256/" "$T/client.properties"
expect_exit 1 "a wrong SCRAM password: nothing delivered, exit 1" -- \
  "$MTASTREAM" --config "$T/client.properties" -X message.timeout.ms=4000 produce -t "$(topic denied)" "$T/in.csv.gz"
expect_contains "$T/err" "Authentication failed" "the authentication failure is reported"
expect_not_contains "$T/err" "wrong-$SCRAM_PASSWORD" "the wrong password is not printed"

# --- the broker stops mid-produce and comes back: every line once, exit 0 -------------------------
# A private broker, so that the suites sharing the fixture broker are not disturbed.
"$KAFKA_LOCAL" start --dir "$T/kafka" --env-file "$T/kafka.env" 2>"$T/kafka-start.err" ||
  { cat "$T/kafka-start.err" >&2; fail "private broker did not start"; finish; }
cleanup_hooks+=("'$KAFKA_LOCAL' stop --dir '$T/kafka' 2>/dev/null")
private_bootstrap=$(sed -n 's/^BOOTSTRAP=//p' "$T/kafka.env")
make_lines 60000 >"$T/restart.csv"
t=$(topic restart)
"$MTASTREAM" -b "$private_bootstrap" produce -t "$t" --rate 10000 --json "$T/restart.csv" >"$T/restart.out" 2>"$T/restart.err" &
producer_pid=$!
# Stopped once part of the input is in the topic, restarted once the producer has seen it gone.
wait_until 600 "2000 of the messages in the topic" -- \
  sh -c '[ "$(kcat -b "$0" -C -t "$1" -e -q -c 2000 | wc -l)" -ge 2000 ]' "$private_bootstrap" "$t"
"$KAFKA_LOCAL" stop --dir "$T/kafka" 2>>"$T/kafka-start.err"
kill -0 "$producer_pid" 2>/dev/null && pass "produce still running while the broker is down" || fail "produce ended before the broker stopped"
wait_until 600 "produce reports the broker gone" -- grep -q "Connection refused\|Disconnected" "$T/restart.err"
"$KAFKA_LOCAL" start --dir "$T/kafka" --env-file "$T/kafka.env" 2>>"$T/kafka-start.err" || { cat "$T/kafka-start.err" >&2; fail "private broker did not restart"; }
code=0; wait "$producer_pid" || code=$?
expect_eq "$code" "0" "produce across a broker restart exits 0"
expect_contains "$T/restart.out" '"delivered":60000' "all 60000 delivered across the restart"
kcat -b "$private_bootstrap" -C -t "$t" -e -q >"$T/restart.back"
expect_eq "$(wc -l <"$T/restart.back")" "60000" "the topic holds 60000 messages (no duplicates)"
expect_eq "$(sort "$T/restart.back" | md5sum)" "$(sort "$T/restart.csv" | md5sum)" "each line exactly once after the restart"

# --- consume when the broker goes away: Ctrl-C ends the run with exit 1, nothing claimed committed ----
port=$(free_port)
"$MTASTREAM" -b "$private_bootstrap" consume -t "$t" -G "gone-$t" --lake-dir "$T/gone" --commit-interval 3600 \
  --metrics-addr "127.0.0.1:$port" >/dev/null 2>"$T/gone.err" &
consumer_pid=$!
cleanup_hooks+=("kill -9 $consumer_pid 2>/dev/null")
# Read everything (the metrics say so); no commit yet (one an hour), then the broker stops.
wait_until 600 "the consumer read all 60000 (its metrics say so)" -- \
  sh -c 'curl -s "$0/metrics" | grep -q "^mtastream_consume_messages_read_total{.*} 60000$"' "http://127.0.0.1:$port"
"$KAFKA_LOCAL" stop --dir "$T/kafka" 2>>"$T/kafka-start.err"
kill -INT "$consumer_pid"
code=0; wait "$consumer_pid" || code=$?
expect_eq "$code" "1" "Ctrl-C with the broker gone: exit 1 (the offsets could not be committed)"
expect_contains "$T/gone.err" "could not be committed" "the error says the commit failed and the lake is safe"
finish
