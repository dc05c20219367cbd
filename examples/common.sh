# Shared by the example scripts: finds the mtastream binary and the local Kafka's address.
# MTASTREAM: the binary (default: `mtastream` on PATH, else this checkout's build/mtastream).
# KAFKA_LOCAL_DIR: where scripts/kafka-local.sh keeps the local broker (default: .kafka-local in the checkout).
examples_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$examples_dir")
if [ -z "${MTASTREAM:-}" ]; then
  if command -v mtastream >/dev/null; then MTASTREAM=mtastream; else MTASTREAM=$repo_dir/build/mtastream; fi
fi
KAFKA_LOCAL_DIR=${KAFKA_LOCAL_DIR:-$repo_dir/.kafka-local}

# The script's header comment (after the #! line, up to the first line that is not a comment) is its help.
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; }
# -h/--help: the help on stdout, exit 0, nothing else done. A wrong argument: message, help on stderr, exit 2.
help_requested() { case "${1:-}" in -h | --help) usage; exit 0 ;; esac; }
usage_error() { echo "$(basename "$0"): $*" >&2; usage >&2; exit 2; }
# A whole number above 0 (partitions, minutes).
check_count() { [[ $2 =~ ^[0-9]+$ ]] && [ "$((10#$2))" -gt 0 ] || usage_error "$1 '$2': expected a whole number above 0"; }

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
