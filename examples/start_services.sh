#!/usr/bin/env bash
# Starts a local Apache Kafka (KRaft, loopback; scripts/kafka-local.sh fetches it from Maven Central once)
# and creates the topic, like the original's start_services.sh but without Docker or Spark.
#
# usage: examples/start_services.sh [-t TOPIC] [-p PARTITIONS]
#   (default topic mta-turnstile, 4 partitions; idempotent: an existing broker and topic are kept)
# Stop the broker with: scripts/kafka-local.sh stop --dir .kafka-local
set -euo pipefail
source "$(dirname "$0")/common.sh"
help_requested "$@"
topic=mta-turnstile partitions=4
while getopts ":t:p:h" opt; do
  case "$opt" in
    t) topic=$OPTARG ;;
    p) partitions=$OPTARG ;;
    h) usage; exit 0 ;;
    :) usage_error "-$OPTARG needs a value" ;;
    *) usage_error "unknown option -$OPTARG" ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage_error "unexpected argument '$1'"
[ -n "$topic" ] || usage_error "-t needs a topic name"
check_count -p "$partitions"

"$repo_dir/scripts/kafka-local.sh" start --dir "$KAFKA_LOCAL_DIR"
local_brokers
"$MTASTREAM" -b "$brokers" topic create "$topic" -p "$partitions" -r 1 --if-not-exists
echo "Services started: Kafka at $brokers, topic $topic ($partitions partitions)"
echo "Next: examples/start_producer.sh, then examples/start_consumer.sh (both find this broker)"
