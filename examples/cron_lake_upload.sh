#!/usr/bin/env bash
# A cron job: drain the topic into lake files (windows closed at the end of what is there), then upload
# them and move each verified upload aside. Offsets are committed only after the files are durable, so a
# failed or killed run is simply redone by the next one; overlapping runs are prevented with flock.
#
# usage: examples/cron_lake_upload.sh UPLOAD_URL      (file://DIR, s3://BUCKET/PREFIX or gs://BUCKET/PREFIX)
# Env: MTASTREAM_BROKERS (default: the local Kafka of start_services.sh), TOPIC (mta-turnstile),
#      GROUP (mta-lake-cron), LAKE_DIR (storage), DONE_DIR (LAKE_DIR/uploaded), plus the usual
#      MTASTREAM_*, AWS_* or GOOGLE_APPLICATION_CREDENTIALS for the brokers and the bucket.
# crontab, every 10 minutes:
#   */10 * * * * cd /srv/mta && MTASTREAM_BROKERS=kafka:9092 examples/cron_lake_upload.sh gs://bucket/turnstile >>cron.log 2>&1
set -euo pipefail
source "$(dirname "$0")/common.sh"
help_requested "$@"
[ $# -eq 1 ] || usage_error "expected one UPLOAD_URL, got $# arguments"
target=$1
# Checked before anything runs: a bad URL must not cost a consume run that commits the group.
case "$target" in
  file://?* | s3://?* | gs://?*) ;;
  *) usage_error "UPLOAD_URL '$target': expected file://DIR, s3://BUCKET/PREFIX or gs://BUCKET/PREFIX" ;;
esac
topic=${TOPIC:-mta-turnstile} group=${GROUP:-mta-lake-cron}
lake=${LAKE_DIR:-storage} done_dir=${DONE_DIR:-${LAKE_DIR:-storage}/uploaded}
brokers=${MTASTREAM_BROKERS:-}
[ -n "$brokers" ] || local_brokers
mkdir -p "$lake" "$done_dir"

exec 9>"$lake/.cron_lake_upload.lock"
flock -n 9 || { echo "$(date -u +%FT%TZ) another run holds $lake/.cron_lake_upload.lock; skipping" >&2; exit 0; }

# 3 = partial (some messages late or malformed, kept in the dead-letter file): the lake is still right.
code=0
"$MTASTREAM" -b "$brokers" consume -t "$topic" -G "$group" --lake-dir "$lake" -e \
  --dead-letter "$lake/rejected.ndjson" || code=$?
[ "$code" -eq 0 ] || [ "$code" -eq 3 ] || { echo "consume failed (exit $code)" >&2; exit "$code"; }

mapfile -t files < <(find "$lake" -maxdepth 1 -name '*.csv.gz' | sort)
if [ ${#files[@]} -eq 0 ]; then echo "$(date -u +%FT%TZ) no new lake files" >&2; exit 0; fi
"$MTASTREAM" upload --to "$target" --move-to "$done_dir" "${files[@]}"
echo "$(date -u +%FT%TZ) uploaded ${#files[@]} files to $target" >&2
