#!/usr/bin/env bash
# consume scaled out: several processes in one consumer group split the partitions and together write
# the lake one process writes, also when one member is killed with SIGKILL mid-run (eager and cooperative
# rebalancing). Real Apache Kafka broker, a topic keyed by random ID (topic-wide windows merge every
# partition); the lake is also checked against the independent model.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka
# Progress: lake files and staged segments (topic-wide windows reach the lake in merges).
files() { local n; n=$(find "$1" -type f | wc -l) || true; echo "${n:-0}"; }

topic=group-$$-$RANDOM
mkdir "$T/data"
model generate "$T/data" 180000 6 23 --spread  # keyed by random ID: every key in every partition
model expect "$T/data" 300 300 300 "$topic" turnstile
load_topic "$topic" 6 "$T/data"

# The reference: one process.
code=0; consume -t "$topic" -G "single-$topic" --lake-dir "$T/single" -e -q || code=$?
expect_eq "$code" "3" "one consumer -e (exit 3: rejected messages)"
model compare "$T/data" "$T/single" >"$T/compare.txt" && pass "single consumer lake equals the model" ||
  { fail "single consumer lake differs from the model"; cat "$T/compare.txt" >&2; }
sums "$T/single" >"$T/single.sha"

# Two members, both to the end: they split the partitions and write the same lake.
mkdir -p "$T/pair"
consume_exec -t "$topic" -G "pair-$topic" --client-id a --lake-dir "$T/pair" -e --json >"$T/a.json" 2>"$T/a.err" &
a=$!
consume_exec -t "$topic" -G "pair-$topic" --client-id b --lake-dir "$T/pair" -e --json >"$T/b.json" 2>"$T/b.err" &
b=$!
cleanup_hooks+=("kill -9 $a $b 2>/dev/null")
wait "$a" || true
wait "$b" || true
consume -t "$topic" -G "pair-$topic" --lake-dir "$T/pair" -e -q >/dev/null || true  # whatever a rebalance left
expect_eq "$(sums "$T/pair" | md5sum)" "$(md5sum <"$T/single.sha")" "two members: the same lake as one process"
read_a=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["read"])' "$T/a.json" 2>/dev/null || echo 0)
read_b=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["read"])' "$T/b.json" 2>/dev/null || echo 0)
echo "member a read $read_a, member b read $read_b"
[ "$read_a" -gt 0 ] && [ "$read_b" -gt 0 ] && pass "both members read a share" ||
  { fail "one member read nothing ($read_a / $read_b)"; grep -v warning "$T/a.err" "$T/b.err" | tail -20 >&2; }

# One member killed mid-run, eager and cooperative rebalancing: the survivor and a restart finish the job.
for strategy in range,roundrobin cooperative-sticky; do
  lake=$T/kill-${strategy%%,*}
  mkdir -p "$lake"
  group=kill-${strategy%%,*}-$topic
  consume_exec -X partition.assignment.strategy=$strategy -t "$topic" -G "$group" --lake-dir "$lake" -e >/dev/null 2>"$T/k1.err" &
  k1=$!
  consume_exec -X partition.assignment.strategy=$strategy -t "$topic" -G "$group" --lake-dir "$lake" -e >/dev/null 2>"$T/k2.err" &
  k2=$!
  cleanup_hooks+=("kill -9 $k1 $k2 2>/dev/null")
  until [ "$(files "$lake")" -ge 150 ] || ! kill -0 "$k1" 2>/dev/null; do sleep 0.02; done
  if kill -9 "$k1" 2>/dev/null; then pass "$strategy: member killed mid-run at $(files "$lake") files"; else
    fail "$strategy: the member finished before it could be killed"; fi
  wait "$k1" 2>/dev/null || true
  c2=0; wait "$k2" || c2=$?
  # -e waits for the dead member's partitions (reassigned when its session expires): exit 0 or 3 means the
  # whole lake is there.
  if [ "$c2" = 0 ] || [ "$c2" = 3 ]; then
    expect_eq "$(sums "$lake" | md5sum)" "$(md5sum <"$T/single.sha")" \
      "$strategy: the survivor's exit $c2 means the whole lake (it equals the single process's)"
  else
    fail "$strategy: the survivor exited $c2"; tail -n 5 "$T/k2.err" >&2
  fi
  # A restart finds nothing left to do.
  consume -X partition.assignment.strategy=$strategy -t "$topic" -G "$group" --lake-dir "$lake" -e -q >/dev/null || true
  expect_eq "$(sums "$lake" | md5sum)" "$(md5sum <"$T/single.sha")" \
    "$strategy: one member SIGKILLed, the lake equals the single process's (names and sha256)"
done

# Members of a fresh group with different window options meet in the lake: refused, not mixed.
consume_exec -t "$topic" -G "mix-$topic" --lake-dir "$T/mix" --window 5m -e --assignment-timeout 20 >/dev/null 2>"$T/m1.err" &
m1=$!
consume_exec -t "$topic" -G "mix-$topic" --lake-dir "$T/mix" --window 10m -e --assignment-timeout 20 >/dev/null 2>"$T/m2.err" &
m2=$!
cleanup_hooks+=("kill -9 $m1 $m2 2>/dev/null")
c1=0; wait "$m1" || c1=$?
c2=0; wait "$m2" || c2=$?
# Whichever meets the other's progress first refuses: at assignment (its checkpoint: exit 2) or at a merge
# (its progress marker in the lake: exit 1).
{ [ "$c1" = 1 ] || [ "$c2" = 1 ] || [ "$c1" = 2 ] || [ "$c2" = 2 ]; } &&
  grep -q "another configuration" "$T/m1.err" "$T/m2.err" &&
  pass "members with another --window in one lake: refused (exits $c1 and $c2)" ||
  { fail "members with another --window in one lake were not refused (exits $c1 and $c2)"; tail -n 3 "$T/m1.err" "$T/m2.err" >&2; }

# Static membership: an instance id that last read another topic is handed that topic's partitions by the
# broker; the member must refuse them (nothing written or committed), not write them under its own topic.
other=other-$$-$RANDOM
expect_exit 0 "topic create $other" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$other" -p 2
code=0; consume -t "$topic" -G "static-$topic" -X group.instance.id=fixed-$$ --lake-dir "$T/static-a" -e -q || code=$?
[ "$code" = 0 ] || [ "$code" = 3 ] || fail "static member on $topic: exit $code"
expect_exit 1 "the same group.instance.id on another topic: refused" -- \
  consume -t "$other" -G "static-$topic" -X group.instance.id=fixed-$$ --lake-dir "$T/static-b" -e --assignment-timeout 20
expect_contains "$T/err" "assigned $topic/" "the error names the partition of the other topic"
expect_eq "$(find "$T/static-b" -type f 2>/dev/null | wc -l)" "0" "nothing written for the wrong topic"

# -e --flush-open when a partition's last owner read it to the end but died before its flush (its marker
# says "read to the end", its open windows are only in its checkpoint): the member that finishes must not
# exit while any partition is unflushed; it waits, gets the partition when the other member leaves, and
# flushes it. A `consume --raw` in the group (it commits nothing) holds the other partitions meanwhile.
code=0; consume -t "$topic" -G "fref-$topic" --lake-dir "$T/fref" -e --flush-open -q || code=$?
expect_eq "$code" "3" "the --flush-open reference (exit 3)"
sums "$T/fref" >"$T/fref.sha"
code=0; consume -t "$topic" -G "fz-$topic" --lake-dir "$T/fz" -e -q || code=$?
expect_eq "$code" "3" "a run to the end without --flush-open (its open windows stay in the checkpoints)"
"$MTASTREAM" -b "$BOOTSTRAP" -v consume --raw -t "$topic" -G "fz-$topic" >/dev/null 2>"$T/holder.err" &
holder=$!
cleanup_hooks+=("kill $holder 2>/dev/null")
wait_until 300 "the raw consumer holds partitions of the group" -- grep -q "assigned partitions" "$T/holder.err"
consume_exec -t "$topic" -G "fz-$topic" --lake-dir "$T/fz" -e --flush-open >"$T/fz.out" 2>"$T/fz.err" &
finisher=$!
cleanup_hooks+=("kill -9 $finisher 2>/dev/null")
wait_until 600 "the finishing member waits for the partitions it does not own" -- \
  sh -c "grep -q 'waiting for the group' '$T/fz.err' || ! kill -0 $finisher"
kill -0 "$finisher" 2>/dev/null && pass "it has not exited with partitions unflushed" ||
  { fail "it exited while another member held partitions that nobody flushed"; cat "$T/fz.err" >&2; }
kill "$holder"; wait "$holder" 2>/dev/null || true
code=0; wait "$finisher" || code=$?
expect_eq "$code" "0" "it finishes once it owns every partition (exit 0: the rejected messages were counted by the first run)"
sums "$T/fz" >"$T/fz.sha"
cmp -s "$T/fz.sha" "$T/fref.sha" && pass "the lake equals the --flush-open reference, every partition flushed" ||
  { fail "the lake differs from the --flush-open reference"; diff "$T/fref.sha" "$T/fz.sha" | head -5 >&2; }

finish
