#!/usr/bin/env bash
# consume --raw against a real Apache Kafka broker: kcat -C style -o/-c/-e/-f, group-less and in a group
# (--commit), the 'capture' format that replay --capture reads back; and consume's errors.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka
raw() { "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" --raw "$@"; }

topic=raw-$$-$RANDOM
expect_exit 0 "topic create with 2 partitions" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$topic" -p 2
# 100 messages per partition: key "kP-I", value "vP-I".
for p in 0 1; do
  seq 0 99 | awk -v p="$p" '{printf "k%d-%d\tv%d-%d\n", p, $1, p, $1}' |
    kcat -P -b "$BOOTSTRAP" -t "$topic" -p "$p" -K $'\t' -X enable.idempotence=true 2>/dev/null || fail "kcat -P"
done

expect_exit 0 "--raw -e reads everything" -- raw -e
expect_eq "$(sort "$T/out" | md5sum)" "$(for p in 0 1; do seq 0 99 | sed "s/^/v$p-/"; done | sort | md5sum)" \
  "default format: each value once, one a line"
expect_eq "$(awk -F- '$1=="v0"{print $2}' "$T/out" | paste -sd' ')" "$(seq 0 99 | paste -sd' ')" "partition order kept"

expect_exit 0 "-o -3 -e: the last 3 of each partition" -- raw -o -3 -e -f '%p:%o:%k:%s\n'
expect_eq "$(sort "$T/out" | paste -sd' ')" \
  "0:97:k0-97:v0-97 0:98:k0-98:v0-98 0:99:k0-99:v0-99 1:97:k1-97:v1-97 1:98:k1-98:v1-98 1:99:k1-99:v1-99" \
  "-o -3 with %p %o %k %s"
expect_exit 0 "-o 95 -e" -- raw -o 95 -e -f '%o\n'
expect_eq "$(sort -n "$T/out" | uniq -c | awk '{print $1"x"$2}' | paste -sd' ')" "2x95 2x96 2x97 2x98 2x99" \
  "-o 95: offsets 95..99 of both partitions"
expect_exit 0 "-c 7" -- raw -c 7
expect_eq "$(wc -l <"$T/out")" "7" "-c 7 prints 7 messages"
expect_exit 0 "-o end -e: nothing" -- raw -o end -e
expect_empty "$T/out" "-o end -e prints nothing"
expect_exit 0 "-f with %t %T %K %S and escapes" -- raw -c 1 -o -1 -e -f '%t|%T|%K|%S\t%%\n'
expect_eq "$(grep -cE "^$topic\|[0-9]{13}\|5\|5"$'\t'"%$" "$T/out")" "1" "%t %T %K %S \\t %%"
expect_exit 2 "unknown %x in -f" -- raw -f '%q' -e
expect_contains "$T/err" "%q" "the error names the unknown format"

# kcat parity, line by line on the same topic: null key and value (%K/%S -1, unlike an empty one: 0),
# headers (%h), and -p PARTITION.
parity=$topic-parity
expect_exit 0 "topic create $parity" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$parity" -p 2
printf 'v1\nv2\n' | kcat -P -b "$BOOTSTRAP" -t "$parity" -p 0 2>/dev/null || fail "kcat -P null keys"
printf 'k3\t\n' | kcat -P -b "$BOOTSTRAP" -K $'\t' -Z -t "$parity" -p 1 2>/dev/null || fail "kcat -P null value"
printf 'k4\tv4\n' | kcat -P -b "$BOOTSTRAP" -K $'\t' -H h1=x -H h2=y -t "$parity" -p 1 2>/dev/null || fail "kcat -P headers"
printf 'k5\t\n' | kcat -P -b "$BOOTSTRAP" -K $'\t' -t "$parity" -p 1 2>/dev/null || fail "kcat -P empty value"
format='%p %o %K %S [%k] [%s] [%h]\n'
kcat -C -b "$BOOTSTRAP" -t "$parity" -e -q -f "$format" | sort >"$T/kcat.txt"
expect_exit 0 "--raw -f with %K %S %h" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$parity" --raw -e -f "$format"
expect_eq "$(sort "$T/out" | md5sum)" "$(md5sum <"$T/kcat.txt")" "--raw prints null keys/values and headers as kcat does"
expect_contains "$T/out" "1 1 2 2 [k4] [v4] [h1=x,h2=y]" "%h: name=value pairs"
expect_exit 0 "--raw -p 1" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$parity" --raw -p 1 -e -f '%p:%o\n'
expect_eq "$(paste -sd' ' "$T/out")" "1:0 1:1 1:2" "-p 1 reads partition 1 only"
expect_exit 2 "--raw -p 7 on a topic of 2 partitions" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$parity" --raw -p 7 -e
expect_contains "$T/err" "partitions 0 to 1" "the error says which partitions exist"

# The capture preset is what replay --capture reads: replaying the capture gives the same key/values.
expect_exit 0 "-f capture" -- raw -e -f capture
cp "$T/out" "$T/capture.tsv"
expect_eq "$(awk -F'\t' 'NF!=3 || $1 !~ /^[0-9]+$/' "$T/capture.tsv" | wc -l)" "0" "capture lines: ms TAB key TAB value"
expect_exit 0 "replay --capture reads the capture" -- "$MTASTREAM" replay --capture -o - "$T/capture.tsv"
expect_eq "$(sort "$T/out" | md5sum)" "$(cut -f3 "$T/capture.tsv" | sort | md5sum)" "replay --capture -o - gives back the values"

# In a group: nothing committed unless --commit; with --commit, a second run continues after the first.
expect_exit 0 "-G without --commit" -- raw -G "g-$topic" -c 50
expect_exit 0 "-G again: starts over (nothing committed)" -- raw -G "g-$topic" -e
expect_eq "$(wc -l <"$T/out")" "200" "without --commit the group re-reads everything"
expect_exit 0 "-G --commit -c 50" -- raw -G "c-$topic" --commit -c 50
cp "$T/out" "$T/first.txt"
expect_exit 0 "-G --commit -e: the rest" -- raw -G "c-$topic" --commit -e
expect_eq "$(cat "$T/first.txt" "$T/out" | sort | uniq | wc -l) $(cat "$T/first.txt" "$T/out" | wc -l)" "200 200" \
  "--commit: the two runs together print each message once"

# Errors: clear, with the right exit code.
expect_exit 2 "windowed consume needs -G" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -e
expect_contains "$T/err" "-G" "says that -G is needed"
expect_exit 2 "--raw options without --raw" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G x -c 5 -e
expect_exit 2 "-o stored needs -G" -- raw -o stored -e
expect_exit 1 "a missing topic is an error" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "no-such-$topic" --raw -e
expect_contains "$T/err" "no-such-$topic" "the error names the topic"

finish
