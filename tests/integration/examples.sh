# needs: kafka
# examples/: start_services.sh, start_producer.sh, start_consumer.sh and cron_lake_upload.sh, run as
# written against the real broker (start_services.sh finds the test broker already running and keeps it).
source "$(dirname "$0")/lib.sh"
ex=$MTASTREAM_SOURCE_DIR/examples

# Help and argument checks come before any work: run with a stand-in binary that records every call,
# in an empty directory, with a local-Kafka dir that does not exist; nothing may be called or created.
printf '#!/bin/sh\necho "$*" >>"%s/calls"\n' "$T" >"$T/stub" && chmod +x "$T/stub"
mkdir "$T/cwd"
no_side_effect() {  # no_side_effect WHAT
  if [ ! -e "$T/calls" ] && [ -z "$(ls -A "$T/cwd")" ] && [ ! -e "$T/kafka-none" ]; then pass "$1: no side effect"; else
    fail "$1: did some work"; cat "$T/calls" 2>/dev/null >&2; ls -A "$T/cwd" >&2; fi
}
in_sandbox() { (cd "$T/cwd" && env MTASTREAM="$T/stub" KAFKA_LOCAL_DIR="$T/kafka-none" MTASTREAM_BROKERS=x:1 "$@"); }
for script in start_services start_producer start_consumer cron_lake_upload; do
  for h in -h --help; do
    expect_exit 0 "$script.sh $h exits 0" -- in_sandbox "$ex/$script.sh" "$h"
    expect_contains "$T/out" "usage: examples/$script.sh" "$script.sh $h prints the usage on stdout"
    expect_not_contains "$T/out" "set -euo pipefail" "$script.sh $h: no script line in the help"
    expect_empty "$T/err" "$script.sh $h: nothing on stderr"
    no_side_effect "$script.sh $h"
  done
  expect_exit 2 "$script.sh with an unknown option" -- in_sandbox "$ex/$script.sh" -Z
  expect_contains "$T/err" "usage: examples/$script.sh" "$script.sh -Z prints the usage on stderr"
  no_side_effect "$script.sh -Z"
done
for bad in "cron_lake_upload.sh" "cron_lake_upload.sh -x" "cron_lake_upload.sh ftp://host/x" "cron_lake_upload.sh a b" \
           "start_services.sh -p 0" "start_services.sh -p x" "start_services.sh extra" \
           "start_consumer.sh -d 0" "start_consumer.sh -s 5x" "start_producer.sh -t"; do
  # shellcheck disable=SC2086
  set -- $bad
  expect_exit 2 "$bad: usage error" -- in_sandbox "$ex/$1" "${@:2}"
  no_side_effect "$bad"
done

need kafka
export MTASTREAM KAFKA_LOCAL_DIR=$KAFKA_DIR
topic=examples-$$-$RANDOM
count_messages() { { kcat -C -b "$BOOTSTRAP" -t "$1" -e -q 2>/dev/null || true; } | wc -l; }

# start_services.sh: broker up (here: already), topic created; a second run changes nothing.
expect_exit 0 "start_services.sh creates the topic" -- "$ex/start_services.sh" -t "$topic" -p 3
expect_contains "$T/out" "Services started" "start_services.sh reports the services"
partitions=$(kcat -L -b "$BOOTSTRAP" -t "$topic" 2>/dev/null | grep -c "partition [0-9]*," || true)
expect_eq "$partitions" 3 "topic $topic has 3 partitions"
expect_exit 0 "start_services.sh is idempotent" -- "$ex/start_services.sh" -t "$topic" -p 3

# start_producer.sh: the local broker found from start_services.sh's env file; produce options after --.
expect_exit 0 "start_producer.sh -- --generate city --count 3000" -- \
  "$ex/start_producer.sh" -t "$topic" -- --generate city --count 3000 --rate 0 --seed 5 \
  --start-time "2023-06-03 00:00:00" --step 5m --turnstiles 100
expect_eq "$(count_messages "$topic")" 3000 "3000 events in the topic"
expect_exit 0 "start_producer.sh -b BROKERS" -- \
  "$ex/start_producer.sh" -b "$BOOTSTRAP" -t "$topic-b" -- --generate city --count 100 --rate 0
expect_eq "$(count_messages "$topic-b")" 100 "-b BROKERS is used"

# The default (the original's generator, one event every 10 s until Ctrl-C) stops cleanly on SIGINT.
"$ex/start_producer.sh" -t "$topic-original" >"$T/orig.out" 2>"$T/orig.err" &
producer=$!
cleanup_hooks+=("kill $producer 2>/dev/null")
for _ in $(seq 300); do [ "$(count_messages "$topic-original")" -ge 1 ] && break; sleep 0.2; done
kill -INT "$producer"
code=0; wait "$producer" || code=$?
expect_eq "$code" 0 "default producer (original generator) stops cleanly on SIGINT"
[ "$(count_messages "$topic-original")" -ge 1 ] && pass "the original generator published" || fail "nothing published"
expect_exit 2 "start_producer.sh without a broker says what to do" -- \
  env KAFKA_LOCAL_DIR="$T/none" "$ex/start_producer.sh" -t "$topic"
expect_contains "$T/err" "start_services.sh" "the error points at start_services.sh"

# start_consumer.sh -- -e --flush-open: the lake holds the topic's events, exactly (ENTRIES and EXITS sums).
kcat -C -b "$BOOTSTRAP" -t "$topic" -e -q 2>/dev/null | tr -d '"' >"$T/events.csv" || true
want=$(awk -F, '{e += $10; x += $11} END {print e+0, x+0}' "$T/events.csv")
expect_exit 0 "start_consumer.sh -- -e --flush-open" -- "$ex/start_consumer.sh" -t "$topic" -g "ex-$$" -l "$T/lake" -- -e --flush-open
lake_sums() { find "$1" -name '*.csv.gz' -print0 | xargs -0 -r zcat | awk -F, '!/^,?CA,/ {e += $(NF-1); x += $NF} END {print e+0, x+0}'; }
expect_eq "$(lake_sums "$T/lake")" "$want" "lake ENTRIES/EXITS sums equal the topic's"

# cron_lake_upload.sh: consume -e then upload --move-to; a second run finds nothing new.
# The cron job uploads the windows that are closed (the open ones wait in the checkpoint): what a plain
# `consume -e` of another group writes.
"$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "ref-$$" --lake-dir "$T/ref" -e -q || true
want=$(lake_sums "$T/ref")
expect_exit 0 "cron_lake_upload.sh file://bucket" -- \
  env MTASTREAM_BROKERS="$BOOTSTRAP" TOPIC="$topic" GROUP="cron-$$" LAKE_DIR="$T/cron-lake" \
  "$ex/cron_lake_upload.sh" "file://$T/bucket"
uploaded=$(find "$T/bucket" -name '*.csv.gz' | wc -l)
moved=$(find "$T/cron-lake/uploaded" -name '*.csv.gz' | wc -l)
left=$(find "$T/cron-lake" -path "$T/cron-lake/uploaded" -prune -o -name '*.csv.gz' -print | wc -l)
[ "$uploaded" -gt 0 ] && pass "$uploaded files uploaded" || fail "nothing uploaded"
expect_eq "$moved" "$uploaded" "every uploaded file moved to uploaded/"
expect_eq "$left" 0 "no lake file left behind"
expect_eq "$(lake_sums "$T/bucket")" "$want" "the bucket holds the closed windows' sums"
expect_eq "$(ls "$T/bucket" | md5sum)" "$(ls "$T/ref" | md5sum)" "the bucket holds the closed windows' files"
# A second run finds nothing new (lake files are final: none is written again): the bucket is unchanged
# and nothing is left behind.
(cd "$T/bucket" && md5sum -- *.csv.gz) >"$T/bucket1.md5"
expect_exit 0 "cron_lake_upload.sh again" -- \
  env MTASTREAM_BROKERS="$BOOTSTRAP" TOPIC="$topic" GROUP="cron-$$" LAKE_DIR="$T/cron-lake" \
  "$ex/cron_lake_upload.sh" "file://$T/bucket"
(cd "$T/bucket" && md5sum -- *.csv.gz) >"$T/bucket2.md5"
if cmp -s "$T/bucket1.md5" "$T/bucket2.md5"; then pass "second run leaves the bucket byte-identical"; else
  fail "second run changed the bucket"; diff "$T/bucket1.md5" "$T/bucket2.md5" | head >&2; fi
left=$(find "$T/cron-lake" -path "$T/cron-lake/uploaded" -prune -o -name '*.csv.gz' -print | wc -l)
expect_eq "$left" 0 "no lake file left behind after the second run"
finish
