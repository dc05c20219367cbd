#!/usr/bin/env bash
# SASL_SSL end to end against the real broker (scripts/kafka-local.sh's TLS listener, certificate from a
# test CA): produce and consume over TLS with SCRAM-SHA-512 and PLAIN, hostname verification on; a client
# without the CA, or with the wrong password, is refused and says why, without printing the password.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka
[ -n "${SSL_BOOTSTRAP:-}" ] && [ -f "${SSL_CA_LOCATION:-}" ] ||
  { fail "the kafka fixture has no SASL_SSL listener (SSL_BOOTSTRAP/SSL_CA_LOCATION missing)"; finish; }

awk 'BEGIN{for(i=1;i<=500;i++) printf "A%03d,R%03d,02-00-%02d,Station %d,456NQR,BMT,09-23-23,16:5%d:00,REGULAR,%d,%d,00000000-0000-4000-8000-%012d,2023-09-23 16:5%d:00\n", i%20, i%7, i%13, i%10, i%10, i%11, i%9, i, i%10}' >"$T/in.csv"

for mechanism in SCRAM-SHA-512 SCRAM-SHA-256 PLAIN; do
  if [ "$mechanism" = PLAIN ]; then user=$SASL_USER password=$SASL_PASSWORD; else user=$SCRAM_USER password=$SCRAM_PASSWORD; fi
  cat >"$T/tls.properties" <<P
bootstrap.servers=$SSL_BOOTSTRAP
security.protocol=SASL_SSL
ssl.ca.location=$SSL_CA_LOCATION
ssl.endpoint.identification.algorithm=https
sasl.mechanisms=$mechanism
sasl.username=$user
sasl.password=$password
P
  t=tls-$mechanism-$$-$RANDOM
  expect_exit 0 "$mechanism over SASL_SSL: produce 500 lines" -- \
    "$MTASTREAM" --config "$T/tls.properties" produce -t "$t" --json "$T/in.csv"
  expect_contains "$T/out" '"delivered":500' "$mechanism: 500 delivered"
  expect_exit 0 "$mechanism over SASL_SSL: consume --raw -e" -- \
    "$MTASTREAM" --config "$T/tls.properties" consume -t "$t" --raw -e -o beginning
  expect_eq "$(sort "$T/out" | md5sum)" "$(sort "$T/in.csv" | md5sum)" "$mechanism: read back byte-identical"
  expect_exit 0 "$mechanism over SASL_SSL: consume to the lake" -- \
    "$MTASTREAM" --config "$T/tls.properties" consume -t "$t" -G "g-$t" -e --lake-dir "$T/lake-$mechanism" --json
  expect_contains "$T/out" '"accepted":500' "$mechanism: the windowed consumer read all 500"
  [ "$mechanism" = PLAIN ] || {
    # kcat (a peer client) reads the same TLS listener: the broker side is real TLS, not something of ours.
    got=$(kcat -b "$SSL_BOOTSTRAP" -X security.protocol=SASL_SSL -X ssl.ca.location="$SSL_CA_LOCATION" \
      -X sasl.mechanisms="$mechanism" -X sasl.username="$user" -X sasl.password="$password" -C -t "$t" -e -q | wc -l)
    expect_eq "$got" 500 "$mechanism: kcat reads the 500 over SASL_SSL too"
  }
done

# Refusals: no CA (the system store does not know the test CA), wrong host name, wrong password.
sed -i '/^ssl.ca.location=/d' "$T/tls.properties"
expect_exit 1 "without the test CA the broker's certificate is refused" -- \
  "$MTASTREAM" --config "$T/tls.properties" -X message.timeout.ms=4000 produce -t "tls-noca-$$" "$T/in.csv"
expect_contains "$T/err" "certificate verify failed" "the TLS failure says the certificate did not verify"
expect_exit 1 "wrong SCRAM password over SASL_SSL: exit 1" -- \
  "$MTASTREAM" -b "$SSL_BOOTSTRAP" -X security.protocol=SASL_SSL -X ssl.ca.location="$SSL_CA_LOCATION" \
  -X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username="$SCRAM_USER" -X "sasl.password=wrong-$SCRAM_PASSWORD" \
  -X message.timeout.ms=4000 produce -t "tls-denied-$$" "$T/in.csv"
expect_contains "$T/err" "Authentication failed" "the authentication failure is reported"
expect_not_contains "$T/err" "wrong-$SCRAM_PASSWORD" "the wrong password is not printed"
# topic list with a wrong password says "authentication failed" at once, as consume does (not a transport
# timeout after --timeout).
expect_exit 1 "topic list with a wrong password: exit 1" -- "$MTASTREAM" -b "$SASL_BOOTSTRAP" \
  -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN -X sasl.username="$SASL_USER" \
  -X "sasl.password=wrong-$SASL_PASSWORD" topic list --timeout 120
expect_contains "$T/err" "Kafka authentication failed" "topic list names the authentication failure"
expect_not_contains "$T/err" "wrong-$SASL_PASSWORD" "topic list does not print the wrong password"
# produce with a wrong password stops at once (no message.timeout.ms wait), saying why, and counts every
# message it read as not delivered.
expect_exit 1 "produce with a wrong password: exit 1" -- timeout 120 "$MTASTREAM" -b "$SASL_BOOTSTRAP" \
  -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN -X sasl.username="$SASL_USER" \
  -X "sasl.password=wrong-$SASL_PASSWORD" produce -t "denied-$$" --json "$T/in.csv"
expect_contains "$T/err" "Kafka authentication failed" "produce names the authentication failure"
expect_contains "$T/out" '"delivered":0' "produce: nothing delivered"
expect_not_contains "$T/err" "wrong-$SASL_PASSWORD" "produce does not print the wrong password"
finish
