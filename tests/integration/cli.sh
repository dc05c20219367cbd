#!/usr/bin/env bash
# The command line contract: help, exit codes, stdout for data only, config layering and redaction.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "--help exits 0" -- "$MTASTREAM" --help
for cmd in produce consume aggregate replay topic upload broker config; do
  expect_contains "$T/out" "$cmd" "--help lists $cmd"
done
expect_contains "$T/out" "Exit codes" "--help documents exit codes"

for cmd in produce consume aggregate replay "topic create" "topic list" "topic describe" "topic delete" upload broker "config show"; do
  # shellcheck disable=SC2086
  expect_exit 0 "$cmd --help exits 0" -- "$MTASTREAM" $cmd --help
  expect_contains "$T/out" "Examples:" "$cmd --help has examples"
  # shellcheck disable=SC2086
  expect_exit 0 "help $cmd exits 0" -- "$MTASTREAM" help $cmd
done

expect_exit 2 "unknown option is a usage error" -- "$MTASTREAM" --no-such-option
expect_empty "$T/out" "unknown option prints nothing on stdout"
expect_exit 2 "no command is a usage error" -- "$MTASTREAM"
expect_exit 2 "unknown command is a usage error" -- "$MTASTREAM" frobnicate
expect_empty "$T/out" "unknown command prints nothing on stdout"

expect_exit 0 "--version exits 0" -- "$MTASTREAM" --version
expect_contains "$T/out" "librdkafka" "--version names librdkafka"

# The original's .properties file, password redacted everywhere.
cat >"$T/client.properties" <<'P'
# Confluent Cloud style
bootstrap.servers=localhost:9092
security.protocol=SASL_PLAINTEXT
sasl.mechanisms=PLAIN
sasl.username=alice
sasl.password=hunter2-very-secret
P
expect_exit 0 "config show reads .properties" -- "$MTASTREAM" --config "$T/client.properties" config show
expect_contains "$T/out" "bootstrap.servers = localhost:9092" "config show prints bootstrap.servers"
expect_contains "$T/out" "sasl.password = [redacted]    # $T/client.properties:6" "config show names file:line"
expect_contains "$T/out" "sasl.password = [redacted]" "config show redacts sasl.password"
expect_not_contains "$T/out" "hunter2" "password not on stdout"
expect_not_contains "$T/err" "hunter2" "password not on stderr"

# Precedence: file < env < -X < -b.
cat >"$T/m.toml" <<'P'
[kafka]
bootstrap.servers = "from-file:9092"
"client.id" = "file-client"
linger.ms = 5
P
MTASTREAM_KAFKA_CLIENT_ID=env-client expect_exit 0 "toml + env + -X" -- \
  "$MTASTREAM" --config "$T/m.toml" -X linger.ms=7 config show
expect_contains "$T/out" "bootstrap.servers = from-file:9092" "toml value kept"
expect_contains "$T/out" "client.id = env-client    # env MTASTREAM_KAFKA_CLIENT_ID" "env beats file"
expect_contains "$T/out" "linger.ms = 7    # -X linger.ms" "-X beats file"
expect_exit 0 "-b beats everything" -- "$MTASTREAM" --config "$T/m.toml" -b flag:1 config show
expect_contains "$T/out" "bootstrap.servers = flag:1    # flag -b" "-b wins"

# Errors name file, line and key.
printf '[kafka]\nbootstrap.servers = "x"\nno.such.property = 1\n' >"$T/bad.toml"
expect_exit 2 "unknown kafka key is a usage error" -- "$MTASTREAM" --config "$T/bad.toml" config show
expect_contains "$T/err" "bad.toml:3" "error names file:line"
expect_contains "$T/err" "no.such.property" "error names the key"
printf '[consume]\nwindw = "5m"\n' >"$T/typo.toml"
expect_exit 2 "unknown command key is a usage error" -- "$MTASTREAM" --config "$T/typo.toml" config show
expect_contains "$T/err" "typo.toml:2" "typo error names file:line"
expect_contains "$T/err" "consume.windw" "typo error names the key"
expect_exit 2 "unreadable config file" -- "$MTASTREAM" --config "$T/missing.toml" config show
expect_contains "$T/err" "missing.toml" "names the missing file"
printf 'just garbage\n' >"$T/garbage.properties"
expect_exit 2 "malformed properties line" -- "$MTASTREAM" --config "$T/garbage.properties" config show
expect_contains "$T/err" "garbage.properties:1" "names line of garbage"

# Numeric options are checked when parsed, before any Kafka client exists (-b points nowhere: an attempt
# to connect would show as a broker warning or a delay), with a readable message and exit 2.
check_number() {  # check_number WHAT ARGS...: exit 2, "mtastream: error:", names the option, no broker talk
  local what=$1; shift
  expect_exit 2 "$what is a usage error" -- timeout 10 "$MTASTREAM" -b 127.0.0.1:9 "$@"
  expect_contains "$T/err" "mtastream: error: " "$what: error prefix"
  expect_contains "$T/err" "expected a" "$what: says what was expected"
  expect_not_contains "$T/err" "1797693" "$what: no 300-digit range"
  expect_not_contains "$T/err" "127.0.0.1:9" "$what: no broker contacted"
}
check_number "produce --turnstiles -1" produce -t t --generate city --turnstiles -1 -c 1
check_number "produce --turnstiles 0" produce -t t --generate city --turnstiles 0
check_number "produce -c -1" produce -t t --generate city -c -1
check_number "produce --seed x" produce -t t --generate city --seed x
check_number "consume --raw -c -5" consume -t t --raw -c -5
check_number "consume --commit-interval 0" consume -t t -G g --commit-interval 0
check_number "consume --max-keys 0" consume -t t -G g --max-keys 0
check_number "aggregate --max-keys -1" aggregate --max-keys -1 -o - /dev/null
check_number "replay --speed 0" replay --speed 0 -o - /dev/null
check_number "replay --max-delta -1" replay --max-delta -1 -o - /dev/null
check_number "topic create -p 0" topic create t -p 0
check_number "topic create -r -1" topic create t -r -1
check_number "upload -j 0" upload -j 0 --to "file://$T/u" "$T"
check_number "upload --retries -1" upload --retries -1 --to "file://$T/u" "$T"
check_number "broker --brokers 17" broker --brokers 17
MTASTREAM_PRODUCE_TURNSTILES=0 check_number "MTASTREAM_PRODUCE_TURNSTILES=0" produce -t t --generate city
expect_contains "$T/err" "env MTASTREAM_PRODUCE_TURNSTILES" "a bad environment value names the variable"

# A repeated single-value option takes the last value (as kcat and git do).
expect_exit 0 "repeated -b is fine" -- "$MTASTREAM" -b first:1 -b second:2 config show
expect_contains "$T/out" "bootstrap.servers = second:2" "repeated -b: the last wins"
expect_exit 2 "repeated -t: the last is used" -- "$MTASTREAM" produce -t a -t b --turnstiles 0
expect_not_contains "$T/err" "At Most" "repeated -t: no 'At Most 1 required'"
expect_exit 2 "a parse error" -- "$MTASTREAM" produce --no-such
expect_contains "$T/err" "mtastream: error: " "parse errors carry the error prefix"

# Mistyped commands and options get the nearest real name, as git does.
suggest() {  # suggest "WORDS" SUGGESTION
  # shellcheck disable=SC2086
  expect_exit 2 "'$1' is a usage error" -- "$MTASTREAM" $1
  expect_contains "$T/err" "mtastream: error: " "'$1': error prefix"
  expect_contains "$T/err" "did you mean '$2'?" "'$1' suggests '$2'"
  expect_empty "$T/out" "'$1': nothing on stdout"
}
suggest prodcue produce
suggest "topic lsit" list
suggest "config shwo" show
suggest "-b x:1 consme -t t" consume
suggest "aggregate --widnow 5m" --window
suggest "aggregate --window=5m --widnow=3" --window
suggest "produce -t t --generat city" --generate
suggest "consume -t t --raw --cuont 3" --count
suggest "produce -t t --brokres x:1" --brokers
suggest "help prodcue" produce
expect_exit 2 "'topic' alone is a usage error" -- "$MTASTREAM" topic
expect_contains "$T/err" "needs a command: create, list, describe, delete" "'topic' alone lists its commands"
expect_not_contains "$T/err" "A subcommand is required" "no bare CLI11 message"
expect_exit 2 "no command" -- "$MTASTREAM"
expect_contains "$T/err" "the commands are: produce" "no command lists the commands"
expect_exit 0 "mtastream version" -- "$MTASTREAM" version
expect_contains "$T/out" "librdkafka" "version names librdkafka"
version_out=$(cat "$T/out")
expect_exit 0 "mtastream -V" -- "$MTASTREAM" -V
expect_eq "$(cat "$T/out")" "$version_out" "-V prints what 'version' prints"

# Every command's help points to the global options.
for cmd in produce consume aggregate replay "topic create" upload broker "config show"; do
  # shellcheck disable=SC2086
  expect_exit 0 "$cmd --help" -- "$MTASTREAM" $cmd --help
  for g in "--config FILE" "-X KEY=VALUE" "-b,--brokers" "-q,--quiet" "-v,--verbose"; do
    expect_contains "$T/out" "$g" "$cmd --help lists the global option $g"
  done
done

# config show shows every layer the command uses, MTASTREAM_<COMMAND>_<OPTION> included, also as JSON.
MTASTREAM_AGGREGATE_WINDOW=10m expect_exit 0 "config show with an option variable" -- "$MTASTREAM" -X acks=all config show
expect_contains "$T/out" "aggregate.window = 10m    # env MTASTREAM_AGGREGATE_WINDOW" "config show: the env layer with its origin"
MTASTREAM_AGGREGATE_WINDOW=10m expect_exit 0 "config show --json" -- "$MTASTREAM" --config "$T/client.properties" -X acks=all config show --json
python3 - "$T/out" <<'PY' && pass "config show --json: kafka and options with origins, secret redacted" || fail "config show --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kafka"]["acks"] == {"value": "all", "origin": "-X acks"}, d
assert d["kafka"]["sasl.password"]["value"] == "[redacted]", d
assert d["options"]["aggregate.window"] == {"values": ["10m"], "origin": "env MTASTREAM_AGGREGATE_WINDOW"}, d
PY
expect_not_contains "$T/out" "hunter2" "config show --json: no password"
printf '[aggregate]\nwindow = "2m"\n' >"$T/w.toml"
MTASTREAM_AGGREGATE_WINDOW=10m expect_exit 0 "env over file" -- "$MTASTREAM" --config "$T/w.toml" config show
expect_contains "$T/out" "aggregate.window = 10m    # env MTASTREAM_AGGREGATE_WINDOW" "config show: the environment wins over the file"
# ... and the command uses what config show shows: 10-minute windows.
printf 'A002,R051,02-00-00,59 ST,NQR456W,BMT,06-10-17,04:01:00,REGULAR,1,1,00000000-0000-4000-8000-000000000001,2017-06-10 04:01:00\n' >"$T/one.csv"
MTASTREAM_AGGREGATE_WINDOW=10m expect_exit 0 "aggregate with MTASTREAM_AGGREGATE_WINDOW" -- "$MTASTREAM" --config "$T/w.toml" aggregate -o - "$T/one.csv"
expect_contains "$T/out" "06/10/2017,04:10:00" "aggregate used the env window (10m)"

# One rule for MTASTREAM_* names: one that looks like ours but names nothing is an error with the nearest.
for v in MTASTREAM_AGGREGATE_WINDWO:MTASTREAM_AGGREGATE_WINDOW MTASTREAM_AGREGATE_WINDOW:MTASTREAM_AGGREGATE_WINDOW \
         MTASTREAM_BROKER:MTASTREAM_BROKERS MTASTREAM_KAFAK_ACKS:MTASTREAM_KAFKA_ACKS; do
  expect_exit 2 "${v%%:*} is an error" -- env "${v%%:*}=1" "$MTASTREAM" config show
  expect_contains "$T/err" "mtastream: error: env ${v%%:*}: no such setting; did you mean ${v#*:}?" "${v%%:*} suggests ${v#*:}"
done
expect_exit 0 "build and test variables are not ours" -- env MTASTREAM_SOURCE_DIR=x MTASTREAM_TEST_STATE=y "$MTASTREAM" config show

# A bad value in a config file or the environment names where it came from, as a bad key does.
printf '[aggregate]\nlayout = "clean"\n\nwindow = "0"\n' >"$T/bad-value.toml"
expect_exit 2 "a bad window in a config file" -- "$MTASTREAM" --config "$T/bad-value.toml" aggregate -o - "$T/one.csv"
expect_contains "$T/err" "mtastream: error: $T/bad-value.toml:4: --window" "a bad value names file:line"
MTASTREAM_AGGREGATE_WINDOW=0 expect_exit 2 "a bad window in the environment" -- "$MTASTREAM" aggregate -o - "$T/one.csv"
expect_contains "$T/err" "env MTASTREAM_AGGREGATE_WINDOW: --window" "a bad env value names the variable"
expect_exit 2 "a bad window on the command line" -- "$MTASTREAM" --config "$T/bad-value.toml" aggregate --window 0 -o - "$T/one.csv"
expect_not_contains "$T/err" "bad-value.toml" "a bad command-line value is not blamed on the file"

# stdout is data: replay --json with the events on stdout is refused (as aggregate --json -o - is).
expect_exit 2 "replay --json with events on stdout" -- "$MTASTREAM" replay --json "$SHARED_DATA/mta/turnstile_170617.txt"
expect_contains "$T/err" "mtastream: error: --json and the events would both go to stdout" "replay --json says why"
expect_empty "$T/out" "replay --json: nothing on stdout"
expect_exit 2 "replay --json -o -" -- "$MTASTREAM" replay --json -o - "$SHARED_DATA/mta/turnstile_170617.txt"
expect_exit 3 "replay --json -o FILE is fine (3: the sample's cut last line)" -- "$MTASTREAM" replay --json -o "$T/ev.csv" "$SHARED_DATA/mta/turnstile_170617.txt"
expect_contains "$T/out" '"command":"replay"' "replay --json -o FILE prints the summary"

# Help and version that cannot be written (a full disk: a full-device node made here) are an error, not 0.
if mknod "$T/full" c 1 7 2>/dev/null; then
  for words in "--help" "aggregate --help" "help produce" "--version" "-V" "version"; do
    # shellcheck disable=SC2086
    expect_exit 1 "$words > full device" -- sh -c '"$0" "$@" >"'"$T/full"'"' "$MTASTREAM" $words
    expect_contains "$T/err" "mtastream: error: cannot write to stdout" "$words > full device: says so"
  done
else
  echo "not root: no full device node, --help > /dev/full not checked"
fi

# A closed pipe ends quietly.
out=$( { "$MTASTREAM" --config "$T/client.properties" config show | head -c 1 >/dev/null; } 2>&1 )
expect_eq "$out" "" "closed pipe prints nothing on stderr"

# produce --timeout: an unreachable broker fails the run that soon (librdkafka's default waits 5 minutes;
# `timeout` only guards against a hang).
expect_exit 1 "produce --timeout 2 to an unreachable broker: exit 1" -- \
  timeout 120 "$MTASTREAM" -b 127.0.0.1:1 produce -t x --generate city -c 5 --rate 0 --timeout 2
expect_contains "$T/err" "5 messages not delivered" "the undelivered messages are reported"
expect_eq "$(grep 'Connection refused' "$T/err" | grep -vc 'suppressed' || true)" "1" \
  "the broker's connection failure is said once (not by the log and the error callback both)"
expect_exit 2 "produce --timeout 0 is a usage error" -- "$MTASTREAM" -b 127.0.0.1:1 produce -t x --generate city -c 1 --timeout 0

finish
