#!/usr/bin/env bash
# Publishes turnstile events, like the original's start_producer.sh: by default the original's generator
# (one event every 10 seconds, until Ctrl-C); any produce option after -- replaces that.
#
# usage: examples/start_producer.sh [-b BROKERS] [-t TOPIC] [-- PRODUCE-OPTIONS...]
#   -b  bootstrap servers (default: the local Kafka of start_services.sh); -t  topic (default mta-turnstile)
# examples:
#   examples/start_producer.sh
#   examples/start_producer.sh -- --generate city --rate 2000 --count 100000
#   examples/start_producer.sh -b broker:9092 -- --config ~/.kafka/docker-kafka.properties events.csv
set -euo pipefail
source "$(dirname "$0")/common.sh"
help_requested "$@"
brokers="" topic=mta-turnstile
while getopts ":b:t:h" opt; do
  case "$opt" in
    b) brokers=$OPTARG ;;
    t) topic=$OPTARG ;;
    h) usage; exit 0 ;;
    :) usage_error "-$OPTARG needs a value" ;;
    *) usage_error "unknown option -$OPTARG" ;;
  esac
done
shift $((OPTIND - 1))
[ -n "$brokers" ] || local_brokers
[ $# -gt 0 ] || set -- --generate original
exec "$MTASTREAM" -b "$brokers" produce -t "$topic" "$@"
