#!/usr/bin/env bash
# Windows the topic's events and writes each closed window to the lake, like the original's
# start_consumer.sh (Spark), with the window and slide passed through this time.
#
# usage: examples/start_consumer.sh [-b BROKERS] [-t TOPIC] [-g GROUP] [-c CLIENT] [-d MINUTES] [-s MINUTES]
#                                   [-l LAKE_DIR] [-- CONSUME-OPTIONS...]
#   defaults: local Kafka of start_services.sh, topic mta-turnstile, group mta-lake, client mta-consumer,
#   5-minute tumbling windows, lake dir ./storage. Runs until Ctrl-C; add `-- -e` to stop at the end of
#   the topic, or `-- --upload gs://BUCKET/turnstile` to upload each file as the original did.
set -euo pipefail
source "$(dirname "$0")/common.sh"
help_requested "$@"
brokers="" topic=mta-turnstile group=mta-lake client=mta-consumer duration=5 slide="" lake=storage
while getopts ":b:t:g:c:d:s:l:h" opt; do
  case "$opt" in
    b) brokers=$OPTARG ;;
    t) topic=$OPTARG ;;
    g) group=$OPTARG ;;
    c) client=$OPTARG ;;
    d) duration=$OPTARG ;;
    s) slide=$OPTARG ;;
    l) lake=$OPTARG ;;
    h) usage; exit 0 ;;
    :) usage_error "-$OPTARG needs a value" ;;
    *) usage_error "unknown option -$OPTARG" ;;
  esac
done
shift $((OPTIND - 1))
check_count -d "$duration"
[ -z "$slide" ] || check_count -s "$slide"
[ -n "$brokers" ] || local_brokers
exec "$MTASTREAM" -b "$brokers" consume -t "$topic" -G "$group" --client-id "$client" \
  --window "${duration}m" --slide "${slide:-$duration}m" --lake-dir "$lake" "$@"
