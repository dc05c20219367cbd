#!/usr/bin/env bash
# Secrets never leave the process: a distinctive SASL password set through every config path (.properties,
# TOML [kafka], env MTASTREAM_KAFKA_SASL_PASSWORD, -X sasl.password=...) is run through every command,
# failing ones included (bad broker address, the wrong password against the real broker's SASL listener,
# malformed config lines, -v -v with librdkafka debug=all, config show, --json), and is then looked for in
# every stdout, stderr and written file: it must be nowhere. The right password too, on successful runs.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka

SECRET="Zq7-wrong-s3cr3t-$$-$RANDOM"
out=$T/out lake=$T/lake
mkdir -p "$out" "$lake"
n=0
# run NAME CMD...: stdout and stderr of the command kept in $out/NAME.{out,err}; exit code in $out/NAME.code.
run() {
  local name=$1; shift
  local code=0
  "$@" >"$out/$name.out" 2>"$out/$name.err" </dev/null || code=$?
  echo "$code" >"$out/$name.code"
  n=$((n + 1))
}
awk 'BEGIN{for(i=1;i<=20;i++) printf "A%03d,R001,02-00-00,Station,456NQR,BMT,09-23-23,16:54:00,REGULAR,%d,%d,00000000-0000-4000-8000-%012d,2023-09-23 16:54:00\n", i, i, i, i}' >"$T/in.csv"
echo "not,a,message" >>"$T/in.csv"
head -20 "$SHARED_DATA/mta/turnstile_170617.txt" >"$T/batch.txt"

# The four config paths, each giving SCRAM credentials whose password is $SECRET (wrong for the broker).
cat >"$T/c.properties" <<P
bootstrap.servers=$SASL_BOOTSTRAP
security.protocol=SASL_PLAINTEXT
sasl.mechanisms=SCRAM-SHA-256
sasl.username=$SCRAM_USER
sasl.password=$SECRET
P
cat >"$T/c.toml" <<P
brokers = "$SASL_BOOTSTRAP"
[kafka]
"security.protocol" = "SASL_PLAINTEXT"
"sasl.mechanisms" = "SCRAM-SHA-256"
"sasl.username" = "$SCRAM_USER"
"sasl.password" = "$SECRET"
P
common_x=(-X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=SCRAM-SHA-256 -X "sasl.username=$SCRAM_USER")
declare -A via
via[properties]="--config $T/c.properties"
via[toml]="--config $T/c.toml"
via[env]="-b $SASL_BOOTSTRAP ${common_x[*]}"
via[x]="-b $SASL_BOOTSTRAP ${common_x[*]} -X sasl.password=$SECRET"
# Fail fast instead of retrying for minutes; debug=all makes librdkafka print its config and every exchange.
fast=(-X message.timeout.ms=3000 -X socket.timeout.ms=3000)
debug=(-v -v -X debug=all)

for path in properties toml env x; do
  # shellcheck disable=SC2206
  cfg=(${via[$path]})
  env_cmd=(env -u MTASTREAM_KAFKA_SASL_PASSWORD)
  [ "$path" = env ] && env_cmd=(env "MTASTREAM_KAFKA_SASL_PASSWORD=$SECRET")
  m=("${env_cmd[@]}" "$MTASTREAM")
  run "$path.config-show" "${m[@]}" "${cfg[@]}" config show
  run "$path.config-show-v" "${m[@]}" "${cfg[@]}" "${debug[@]}" config show
  run "$path.produce" "${m[@]}" "${cfg[@]}" "${debug[@]}" "${fast[@]}" produce -t secrets-$$ --json \
    --dead-letter "$lake/$path.dead.ndjson" "$T/in.csv"
  run "$path.produce-bad-broker" "${m[@]}" "${cfg[@]}" "${debug[@]}" "${fast[@]}" -b 127.0.0.1:1 \
    produce -t secrets-$$ --json "$T/in.csv"
  run "$path.produce-bad-host" "${m[@]}" "${cfg[@]}" "${debug[@]}" "${fast[@]}" -b no-such-host.invalid:9092 \
    produce -t secrets-$$ "$T/in.csv"
  run "$path.topic-list" "${m[@]}" "${cfg[@]}" "${debug[@]}" "${fast[@]}" topic list --timeout 5s
  run "$path.topic-create" "${m[@]}" "${cfg[@]}" "${debug[@]}" "${fast[@]}" topic create secrets-$$ --timeout 5s --json
  run "$path.replay" "${m[@]}" "${cfg[@]}" "${debug[@]}" "${fast[@]}" replay -t secrets-$$ --as-fast-as-possible \
    --json "$T/batch.txt"
  run "$path.consume-raw" "${m[@]}" "${cfg[@]}" "${debug[@]}" "${fast[@]}" consume -t secrets-$$ --raw -e -c 1
  run "$path.consume" "${m[@]}" "${cfg[@]}" "${debug[@]}" "${fast[@]}" consume -t secrets-$$ -G g-$$ -e \
    --lake-dir "$lake/$path" --json
  run "$path.aggregate" "${m[@]}" "${cfg[@]}" "${debug[@]}" aggregate --lake-dir "$lake/$path-agg" --json "$T/in.csv"
  run "$path.bad-option" "${m[@]}" "${cfg[@]}" produce --no-such-option
done

# Malformed config lines that carry the secret: the error names file:line, never the value.
printf 'bootstrap.servers=%s\nsasl.password %s\n' "$SASL_BOOTSTRAP" "$SECRET" >"$T/bad.properties"
run bad-properties "$MTASTREAM" --config "$T/bad.properties" config show
expect_contains "$out/bad-properties.err" "bad.properties:2" "a malformed .properties line is named by file:line"
printf '[kafka]\n"sasl.password" = %s\n' "$SECRET" >"$T/bad1.toml"
run bad-toml-unquoted "$MTASTREAM" --config "$T/bad1.toml" config show
printf '[kafka]\n"sasl.password" = "%s\n' "$SECRET" >"$T/bad2.toml"
run bad-toml-unclosed "$MTASTREAM" --config "$T/bad2.toml" config show
printf '[kafka]\n"sasl.password" = """%s\n' "$SECRET" >"$T/bad3.toml"
run bad-toml-multiline "$MTASTREAM" --config "$T/bad3.toml" config show
run bad-x "$MTASTREAM" -X "sasl.password$SECRET" config show
run bad-x-value "$MTASTREAM" -b "$SASL_BOOTSTRAP" -X "sasl.password=$SECRET" -X security.protocol=SASL_PLAINTEXT -X "sasl.mechanisms=BOGUS" -X message.timeout.ms=3000 -v -v produce -t x "$T/in.csv"
run bad-x-property "$MTASTREAM" -b "$SASL_BOOTSTRAP" -X "ssl.key.password=$SECRET" -X "security.protocol=bogus" topic list
run bad-jaas "$MTASTREAM" -b "$SASL_BOOTSTRAP" -X "sasl.jaas.config=$SECRET" topic list --timeout 3s
run key-pem "$MTASTREAM" -b "$SASL_BOOTSTRAP" -X "ssl.key.pem=$SECRET" config show
run oauth "$MTASTREAM" -b "$SASL_BOOTSTRAP" -X "sasl.oauthbearer.config=principal=x $SECRET" config show

# The runs did what they should (so the greps below looked at real output).
for path in properties toml env x; do
  expect_eq "$(cat "$out/$path.config-show.code")" 0 "$path: config show works"
  expect_contains "$out/$path.config-show.out" "sasl.password" "$path: config show lists sasl.password"
  expect_contains "$out/$path.config-show.out" "[redacted]" "$path: ... redacted"
  expect_eq "$(cat "$out/$path.produce.code")" 1 "$path: produce with the wrong password fails (exit 1)"
  expect_contains "$out/$path.produce.err" "Authentication failed" "$path: the authentication failure is reported"
  expect_eq "$(cat "$out/$path.aggregate.code")" 3 "$path: aggregate ran (one rejected line: exit 3)"
  for name in produce-bad-broker topic-list consume-raw; do
    code=$(cat "$out/$path.$name.code")
    [ "$code" -ne 0 ] && pass "$path: $name fails (exit $code)" || fail "$path: $name exit 0 with the wrong password"
  done
done
grep -q "sasl.password" "$out/properties.produce.err" &&
  pass "debug=all logs mention the password property (so the grep is meaningful)" ||
  echo "note: librdkafka debug output does not name sasl.password"

# The right password, successful runs with full debug logging.
good=(-b "$SASL_BOOTSTRAP" "${common_x[@]}" -X "sasl.password=$SCRAM_PASSWORD")
run good-produce "$MTASTREAM" "${good[@]}" "${debug[@]}" produce -t secrets-ok-$$ --json "$T/in.csv"
expect_eq "$(cat "$out/good-produce.code")" 3 "produce with the right password delivers (exit 3: one bad line)"
run good-consume "$MTASTREAM" "${good[@]}" "${debug[@]}" consume -t secrets-ok-$$ -G g-ok-$$ -e --lake-dir "$lake/ok" --json
expect_eq "$(cat "$out/good-consume.code")" 0 "consume with the right password works"
run good-topic "$MTASTREAM" "${good[@]}" "${debug[@]}" topic describe secrets-ok-$$ --json
expect_eq "$(cat "$out/good-topic.code")" 0 "topic describe with the right password works"

# Nowhere: every stdout, stderr, lake file, dead letter (gzip files read decompressed).
leaks=$(
  for f in $(find "$out" "$lake" -type f); do
    if [[ $f == *.gz ]]; then zcat "$f"; else cat "$f"; fi | grep -aqF -e "$SECRET" -e "$SCRAM_PASSWORD" && echo "$f"
  done || true)
echo "checked $n runs, $(find "$out" "$lake" -type f | wc -l) files, $(cat "$out"/* | wc -c) bytes of output"
if [ -z "$leaks" ]; then pass "no secret in any output or written file"; else
  fail "secret leaked into: $leaks"
  for f in $leaks; do grep -aF -n -e "$SECRET" -e "$SCRAM_PASSWORD" "$f" | head -3 | cut -c1-300 >&2; done
fi
# Nothing was written outside the places named on the command line (the secret in a stray file).
stray=$(grep -rlaF "$SECRET" "$T" --exclude='*.properties' --exclude='*.toml' 2>/dev/null | grep -v "^$out/" || true)
expect_eq "$stray" "" "no file under the scratch dir holds the secret (besides the config files)"
finish
