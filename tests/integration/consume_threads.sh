#!/usr/bin/env bash
# `consume --threads N` against a real Apache Kafka broker: the lake, the dead letters and the summary's
# counts are the same for N = 1, 2, 3, 8 (5 partitions: threads own uneven shares) on a topic with bad,
# late and duplicate messages, topic-wide and --per-partition, and equal to the independent model; a
# SIGKILLed --threads 3 run resumed with --threads 2 ends with the same lake.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka

topic=threads-$$-$RANDOM
mkdir "$T/data"
model generate "$T/data" 60000 5 9 --spread
model expect "$T/data" 300 300 300 "$topic" turnstile --flush-open
load_topic "$topic" 5 "$T/data"

# run TAG N ARGS...: consume -e --flush-open with N threads into lake-TAG-N; the summary without its time and
# number of commits (both depend on timing), and the dead letters sorted (fetch order across partitions
# differs from run to run, whatever N).
run() {
  local tag=$1 n=$2
  shift 2
  expect_exit 3 "$tag: consume -e --threads $n (exit 3: rejected messages)" -- \
    consume -t "$topic" -G "$tag-$n-$topic" --threads "$n" --lake-dir "$T/lake-$tag-$n" \
    --dead-letter "$T/dl-$tag-$n.ndjson" -e --flush-open --json "$@"
  sed -e 's/,"seconds":[0-9.e+-]*//' -e 's/,"commits":[0-9]*//' "$T/out" >"$T/sum-$tag-$n.json"
  sort "$T/dl-$tag-$n.ndjson" >"$T/dl-$tag-$n.sorted"
}
compare_runs() {
  local tag=$1 n=$2
  diff -r "$T/lake-$tag-1" "$T/lake-$tag-$n" >/dev/null && pass "$tag: lake with --threads $n = --threads 1" ||
    fail "$tag: lake with --threads $n differs from --threads 1"
  cmp -s "$T/dl-$tag-1.sorted" "$T/dl-$tag-$n.sorted" && pass "$tag: dead letters with --threads $n = --threads 1" ||
    fail "$tag: dead letters with --threads $n differ"
  cmp -s "$T/sum-$tag-1.json" "$T/sum-$tag-$n.json" && pass "$tag: summary with --threads $n = --threads 1" ||
    fail "$tag: summary with --threads $n differs: $(cat "$T/sum-$tag-$n.json") vs $(cat "$T/sum-$tag-1.json")"
}

for n in 1 2 3 8; do
  run wide "$n"
  [ "$n" -gt 1 ] && compare_runs wide "$n"
done
model compare "$T/data" "$T/lake-wide-3" >"$T/compare.txt" && pass "wide: the --threads 3 lake equals the model" ||
  { fail "wide: the --threads 3 lake differs from the model"; cat "$T/compare.txt" >&2; }
model rejects "$T/dl-wide-3.ndjson" >"$T/rejects.txt"
cmp -s "$T/rejects.txt" "$T/data/expected-rejects.txt" && pass "wide: the --threads 3 dead letters are the model's rejects" ||
  fail "wide: the --threads 3 dead letters differ from the model's rejects"
expect_contains "$T/sum-wide-8.json" '"bad":' "the summary counts bad messages"
[ -n "$(find "$T/lake-wide-1" -name '*.csv.gz' | head -1)" ] && pass "wide: lake files written" || fail "wide: no lake files"

for n in 1 3; do
  run part "$n" --per-partition
done
compare_runs part 3
[ "$(find "$T/lake-part-3" -name '*_p4_*.csv.gz' | wc -l)" -gt 0 ] && pass "per-partition: partition 4's files are there" ||
  fail "per-partition: no file of partition 4"

# A --threads 3 member SIGKILLed once files are in the lake; the rerun with --threads 2 ends with the lake
# of one thread (nothing lost, nothing doubled, every file final).
group=kill-$topic
consume_exec -t "$topic" -G "$group" --threads 3 --lake-dir "$T/lake-kill" --commit-interval 0.2 >/dev/null 2>"$T/kill.err" &
pid=$!
for _ in $(seq 600); do
  [ -n "$(find "$T/lake-kill" -maxdepth 1 -name '*.csv.gz' 2>/dev/null | head -1)" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null || true
[ -n "$(find "$T/lake-kill" -maxdepth 1 -name '*.csv.gz' | head -1)" ] && pass "killed a --threads 3 member after its first lake files" ||
  fail "the --threads 3 member wrote no lake file before the kill"
sums "$T/lake-kill" >"$T/before-kill.sha"
# 3 when the rerun met rejected messages, 0 when the killed member had committed past all of them.
code=0
consume -t "$topic" -G "$group" --threads 2 --lake-dir "$T/lake-kill" -e --flush-open >/dev/null 2>"$T/err" || code=$?
[ "$code" = 0 ] || [ "$code" = 3 ] && pass "rerun after the SIGKILL with --threads 2 (exit $code)" ||
  { fail "rerun after the SIGKILL with --threads 2: exit $code"; cat "$T/err" >&2; }
(cd "$T/lake-kill" && sha256sum -c --quiet "$T/before-kill.sha") >/dev/null 2>&1 &&
  pass "every file written before the kill is unchanged" || fail "a file written before the kill changed"
[ "$(sums "$T/lake-kill")" == "$(sums "$T/lake-wide-1")" ] && pass "after the kill and the rerun: the lake of --threads 1" ||
  fail "after the kill and the rerun the lake differs from --threads 1's"

expect_exit 2 "--threads 0 is a usage error" -- consume -t "$topic" -G x --threads 0 -e
expect_exit 2 "--threads with --raw is a usage error" -- consume -t "$topic" --raw --threads 2 -e
finish
