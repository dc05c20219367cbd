#!/usr/bin/env bash
# Starts or stops one of the servers the integration tests use, as a CTest fixture.
# usage: test-server.sh start|stop kafka|s3|gcs|postgres STATE_DIR
# Each server script writes STATE_DIR/<server>.env with the addresses tests source.
set -euo pipefail
action=$1 server=$2 state=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$state"
case "$server" in
  kafka) exec "$here/kafka-local.sh" "$action" --dir "$state/kafka" --env-file "$state/kafka.env" ;;
  s3)    exec "$here/s3-local.sh" "$action" --dir "$state/s3" --env-file "$state/s3.env" ;;
  gcs)   exec "$here/gcs-local.sh" "$action" --dir "$state/gcs" --env-file "$state/gcs.env" ;;
  postgres) exec "$here/postgres-local.sh" "$action" --dir "$state/postgres" --env-file "$state/postgres.env" ;;
  *) echo "unknown server: $server" >&2; exit 2 ;;
esac
