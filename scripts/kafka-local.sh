#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft mode) on loopback, from Maven Central jars, for tests,
# benchmarks, examples and by hand. Listeners: PLAINTEXT, and SASL_PLAINTEXT with PLAIN and SCRAM-SHA-256/512,
# and SASL_SSL (same mechanisms) with a certificate from a test CA made by openssl (env SSL_CA_LOCATION).
#
# usage: kafka-local.sh start|stop|restart|status [--dir DIR] [--env-file FILE] [--version V]
#   --dir       broker state: config, data, log, pid (default ./.kafka-local); data survives stop/start
#   --env-file  where `start` writes the addresses (default DIR/kafka.env); source it in a shell
#   --version   Apache Kafka version (default $KAFKA_VERSION or 3.9.1; 4.x works too, but librdkafka before
#               2.6.1, such as Debian 12's 2.0.2, fails SCRAM logins against 4.x: PLAINTEXT and PLAIN work)
# Jars are cached in ${MTASTREAM_CACHE:-~/.cache/mtastream}/kafka/VERSION (fetched with Maven once).
# Environment: KAFKA_READY_TIMEOUT (seconds, default 240), KAFKA_HEAP (default -Xmx512m -Xms128m).
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
action=$1; shift
dir=.kafka-local env_file="" version=${KAFKA_VERSION:-3.9.1}
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --env-file) env_file=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "kafka-local.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -n "$env_file" ] || env_file=$dir/kafka.env
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cache=${MTASTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtastream}/kafka/$version
log=$dir/kafka.log
pid_file=$dir/kafka.pid
ready_timeout=${KAFKA_READY_TIMEOUT:-240}

# Fixed test credentials: loopback only, never real secrets.
sasl_user=mtastream-plain sasl_password=plain-secret-for-tests
scram_user=mtastream-scram scram_password=scram-secret-for-tests
keystore_password=keystore-secret-for-tests

say() { echo "kafka-local: $*" >&2; }
die() { say "$*"; exit 1; }

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid; pid=$(cat "$pid_file")
  # The pid must still be this DIR's broker (a stale file after a reboot may name another process).
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/server.properties" && echo "$pid"
}

fetch_jars() {
  [ -f "$cache/complete" ] && return 0
  # Several brokers may start at once on a fresh machine (CI): one fetches, the others wait for it.
  mkdir -p "$(dirname "$cache")"
  exec 9>"$cache.lock"
  flock 9
  if [ -f "$cache/complete" ]; then exec 9>&-; return 0; fi
  command -v java >/dev/null || die "java not found: run scripts/install-test-deps.sh"
  command -v mvn >/dev/null || die "mvn not found: run scripts/install-test-deps.sh"
  say "fetching Apache Kafka $version jars from Maven Central into $cache"
  rm -rf "$cache"; mkdir -p "$cache"
  cat >"$cache/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>mtastream.local</groupId><artifactId>kafka-broker-jars</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
  if ! (cd "$cache" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
          -DoutputDirectory="$cache/libs" >"$cache/mvn.log" 2>&1); then
    tail -30 "$cache/mvn.log" >&2
    die "could not fetch the Kafka jars (log: $cache/mvn.log)"
  fi
  touch "$cache/complete"
  exec 9>&-
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Ports are chosen once per DIR and kept, so a restarted broker answers at the same addresses.
choose_ports() {
  if [ -f "$dir/ports" ]; then
    . "$dir/ports"
    # State from before the SASL_SSL listener existed: give it a port too.
    [ -n "${ssl_port:-}" ] || { ssl_port=$(free_port); echo "ssl_port=$ssl_port" >>"$dir/ports"; }
    return
  fi
  plain_port=$(free_port); sasl_port=$(free_port); controller_port=$(free_port); ssl_port=$(free_port)
  while [ "$sasl_port" = "$plain_port" ]; do sasl_port=$(free_port); done
  while [ "$controller_port" = "$plain_port" ] || [ "$controller_port" = "$sasl_port" ]; do
    controller_port=$(free_port); done
  while [ "$ssl_port" = "$plain_port" ] || [ "$ssl_port" = "$sasl_port" ] || [ "$ssl_port" = "$controller_port" ]; do
    ssl_port=$(free_port); done
  printf 'plain_port=%s\nsasl_port=%s\ncontroller_port=%s\nssl_port=%s\n' "$plain_port" "$sasl_port" "$controller_port" \
    "$ssl_port" >"$dir/ports"
}

write_config() {
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$plain_port,SASL_PLAINTEXT://127.0.0.1:$sasl_port,CONTROLLER://127.0.0.1:$controller_port,SASL_SSL://127.0.0.1:$ssl_port
advertised.listeners=PLAINTEXT://127.0.0.1:$plain_port,SASL_PLAINTEXT://127.0.0.1:$sasl_port,SASL_SSL://127.0.0.1:$ssl_port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$sasl_user="$sasl_password";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$sasl_user="$sasl_password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/ssl/broker.p12
ssl.keystore.password=$keystore_password
ssl.key.password=$keystore_password
ssl.client.auth=none
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=67108864
PROPS
  cat >"$dir/log4j.properties" <<'LOG4J'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
LOG4J
  # Kafka 4.x logs through log4j2.
  cat >"$dir/log4j2.properties" <<'LOG4J2'
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.statechange.name=state.change.logger
logger.statechange.level=WARN
LOG4J2
}

# A test CA and a broker certificate for 127.0.0.1/localhost signed by it, made once per DIR.
make_certificates() {
  [ -f "$dir/ssl/broker.p12" ] && return 0
  command -v openssl >/dev/null || die "openssl not found"
  local ssl=$dir/ssl
  rm -rf "$ssl"; mkdir -p "$ssl"
  if ! {
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mtastream test CA" \
      -keyout "$ssl/ca.key" -out "$ssl/ca.pem" &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$ssl/broker.key" -out "$ssl/broker.csr" &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$ssl/san.ext" &&
    openssl x509 -req -in "$ssl/broker.csr" -CA "$ssl/ca.pem" -CAkey "$ssl/ca.key" -CAcreateserial -days 3650 \
      -extfile "$ssl/san.ext" -out "$ssl/broker.pem" &&
    openssl pkcs12 -export -in "$ssl/broker.pem" -inkey "$ssl/broker.key" -name broker \
      -passout "pass:$keystore_password" -out "$ssl/broker.p12"
  } >>"$dir/openssl.log" 2>&1; then
    tail -20 "$dir/openssl.log" >&2
    die "could not make the test certificates (log: $dir/openssl.log)"
  fi
}

java_run() {
  # shellcheck disable=SC2086
  java ${KAFKA_HEAP:--Xmx512m -Xms128m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$dir/log4j.properties" -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cache/libs/*" "$@"
}

format_storage() {
  [ -f "$dir/data/meta.properties" ] && return 0
  local cluster_id
  cluster_id=$(java_run kafka.tools.StorageTool random-uuid 2>>"$log" | tail -1)
  [ -n "$cluster_id" ] || die "could not make a cluster id (log: $log)"
  if ! java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
      --add-scram "SCRAM-SHA-256=[name=$scram_user,password=$scram_password]" \
      --add-scram "SCRAM-SHA-512=[name=$scram_user,password=$scram_password]" >>"$log" 2>&1; then
    tail -30 "$log" >&2
    die "formatting the KRaft storage failed (log: $log)"
  fi
}

write_env() {
  local tmp=$env_file.tmp
  {
    echo "# written by scripts/kafka-local.sh; source it"
    printf 'BOOTSTRAP=%q\n' "127.0.0.1:$plain_port"
    printf 'SASL_BOOTSTRAP=%q\n' "127.0.0.1:$sasl_port"
    printf 'SASL_USER=%q\nSASL_PASSWORD=%q\n' "$sasl_user" "$sasl_password"
    printf 'SCRAM_USER=%q\nSCRAM_PASSWORD=%q\n' "$scram_user" "$scram_password"
    printf 'SSL_BOOTSTRAP=%q\nSSL_CA_LOCATION=%q\n' "127.0.0.1:$ssl_port" "$dir/ssl/ca.pem"
    printf 'KAFKA_VERSION=%q\n' "$version"
    printf 'KAFKA_DIR=%q\n' "$dir"
    printf 'KAFKA_LOG=%q\n' "$log"
    printf 'KAFKA_PID_FILE=%q\n' "$pid_file"
    printf 'KAFKA_LOCAL=%q\n' "$script"
    printf 'KAFKA_ENV_FILE=%q\n' "$env_file"
  } >"$tmp"
  mv "$tmp" "$env_file"
}

# Ready = the broker answers metadata on both listeners (a SASL PLAIN login on the second: librdkafka
# before 2.6.1, Debian 12's kcat included, cannot do SCRAM with Kafka 4.x brokers).
broker_answers() {
  if command -v kcat >/dev/null; then
    kcat -b "127.0.0.1:$plain_port" -L -m 5 >/dev/null 2>&1 &&
      kcat -b "127.0.0.1:$sasl_port" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
        -X sasl.username="$sasl_user" -X sasl.password="$sasl_password" -L -m 5 >/dev/null 2>&1
  else
    grep -q "Kafka Server started" "$log" 2>/dev/null
  fi
}

start() {
  if pid=$(running_pid); then
    choose_ports; write_env
    say "already running (pid $pid) at 127.0.0.1:$plain_port"
    return 0
  fi
  fetch_jars
  choose_ports
  make_certificates
  write_config
  [ -f "$log" ] && mv "$log" "$log.previous"
  : >"$log"
  format_storage
  # Detached from the caller's stdin/stdout so that CTest fixtures and pipes do not wait for it.
  nohup setsid bash -c 'exec "$@"' _ java ${KAFKA_HEAP:--Xmx512m -Xms128m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$dir/log4j.properties" -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cache/libs/*" \
    kafka.Kafka "$dir/server.properties" </dev/null >>"$log" 2>&1 &
  echo $! >"$pid_file"
  local waited=0
  until broker_answers; do
    if ! running_pid >/dev/null; then
      tail -40 "$log" >&2
      die "broker exited while starting (log: $log)"
    fi
    if [ "$waited" -ge "$ready_timeout" ]; then
      tail -40 "$log" >&2
      stop_broker
      die "broker not ready after ${ready_timeout}s (log: $log)"
    fi
    sleep 1; waited=$((waited + 1))
  done
  write_env
  say "Apache Kafka $version ready: PLAINTEXT 127.0.0.1:$plain_port, SASL_PLAINTEXT 127.0.0.1:$sasl_port, SASL_SSL 127.0.0.1:$ssl_port (env: $env_file)"
}

stop_broker() {
  local pid
  pid=$(running_pid) || { rm -f "$pid_file"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 60 ]; then say "broker did not stop in 60s; killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.5; waited=$((waited + 1))
  done
  rm -f "$pid_file"
}

case "$action" in
  start) start ;;
  stop) stop_broker; say "stopped (data kept in $dir/data)" ;;
  restart) stop_broker; start ;;
  status)
    if pid=$(running_pid); then choose_ports; echo "running pid $pid at 127.0.0.1:$plain_port"; else echo "stopped"; exit 1; fi ;;
  *) usage ;;
esac
