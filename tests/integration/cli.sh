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

# A closed pipe ends quietly.
out=$( { "$MTASTREAM" --config "$T/client.properties" config show | head -c 1 >/dev/null; } 2>&1 )
expect_eq "$out" "" "closed pipe prints nothing on stderr"

finish
