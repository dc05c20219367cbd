# Shared by the example scripts: finds the mtastream binary and the local Kafka's address.
# MTASTREAM: the binary (default: `mtastream` on PATH, else this checkout's build/mtastream).
# KAFKA_LOCAL_DIR: where scripts/kafka-local.sh keeps the local broker (default: .kafka-local in the checkout).
examples_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$examples_dir")
if [ -z "${MTASTREAM:-}" ]; then
  if command -v mtastream >/dev/null; then MTASTREAM=mtastream; else MTASTREAM=$repo_dir/build/mtastream; fi
fi
KAFKA_LOCAL_DIR=${KAFKA_LOCAL_DIR:-$repo_dir/.kafka-local}

# Sets $brokers from -b (given) or from the env file start_services.sh left behind.
local_brokers() {
  local env_file=$KAFKA_LOCAL_DIR/kafka.env
  if [ ! -f "$env_file" ]; then
    echo "no -b BROKERS given and no local Kafka ($env_file): run examples/start_services.sh first" >&2
    exit 2
  fi
  # shellcheck disable=SC1090
  brokers=$(. "$env_file" && echo "$BOOTSTRAP")
}
