#!/usr/bin/env bash
# A GCS emulator on loopback for tests and by hand: fake-gcs-server (JSON API, no auth), built once from
# the Go module proxy with `go install`.
#
# usage: gcs-local.sh start|stop|restart|status [--dir DIR] [--env-file FILE]
#   --dir       server state: log, pid, objects (default ./.gcs-local); objects survive stop/start
#   --env-file  where `start` writes the endpoint and buckets (default DIR/gcs.env); source it
# The binary is cached in ${MTASTREAM_CACHE:-~/.cache/mtastream}/fake-gcs-server-VERSION.
set -euo pipefail

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
action=$1; shift
dir=.gcs-local env_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --env-file) env_file=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "gcs-local.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -n "$env_file" ] || env_file=$dir/gcs.env
version=v1.56.1
cache=${MTASTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtastream}/fake-gcs-server-$version
binary=$cache/fake-gcs-server
log=$dir/fake-gcs-server.log
pid_file=$dir/fake-gcs-server.pid
bucket=mtastream-test bucket2=mtastream-other

say() { echo "gcs-local: $*" >&2; }
die() { say "$*"; exit 1; }

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid; pid=$(cat "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install_server() {
  [ -x "$binary" ] && return 0
  command -v go >/dev/null || die "go not found (needed once to build fake-gcs-server $version)"
  say "building fake-gcs-server $version with go install into $cache"
  mkdir -p "$cache"
  if ! (cd "$cache" && GOBIN="$cache" GOFLAGS=-mod=mod go install "github.com/fsouza/fake-gcs-server@$version" \
        >"$cache/go-install.log" 2>&1); then
    tail -20 "$cache/go-install.log" >&2
    die "go install failed (log: $cache/go-install.log)"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# The port is chosen once per DIR and kept, so a restarted server answers at the same address.
choose_port() {
  if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else port=$(free_port); echo "$port" >"$dir/port"; fi
}

write_env() {
  local tmp=$env_file.tmp
  {
    echo "# written by scripts/gcs-local.sh; source it"
    printf 'GCS_ENDPOINT=%q\n' "http://127.0.0.1:$port"
    printf 'GCS_BUCKET=%q\n' "$bucket"
    printf 'GCS_BUCKET_2=%q\n' "$bucket2"
    printf 'GCS_DIR=%q\n' "$dir"
    printf 'GCS_ENV_FILE=%q\n' "$env_file"
    printf 'GCS_PID_FILE=%q\n' "$pid_file"
    printf 'GCS_LOG=%q\n' "$log"
    printf 'GCS_LOCAL=%q\n' "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
  } >"$tmp"
  mv "$tmp" "$env_file"
}

create_bucket() {
  local code
  code=$(curl -sS -o "$dir/create-bucket.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "{\"name\":\"$1\"}" "http://127.0.0.1:$port/storage/v1/b")
  case "$code" in 200|409) ;; *) cat "$dir/create-bucket.out" >&2; die "could not create bucket $1 (HTTP $code)" ;; esac
}

start() {
  choose_port
  if pid=$(running_pid); then
    write_env
    say "already running (pid $pid) at http://127.0.0.1:$port"
    return 0
  fi
  install_server
  [ -f "$log" ] && mv "$log" "$log.previous"
  : >"$log"
  nohup setsid "$binary" -scheme http -host 127.0.0.1 -port "$port" -backend filesystem \
    -filesystem-root "$dir/objects" -public-host "127.0.0.1:$port" -external-url "http://127.0.0.1:$port" \
    -log-level warn </dev/null >>"$log" 2>&1 &
  echo $! >"$pid_file"
  local waited=0
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/storage/v1/b" 2>/dev/null; do
    running_pid >/dev/null || { tail -20 "$log" >&2; die "fake-gcs-server exited while starting (log: $log)"; }
    [ "$waited" -ge 120 ] && { stop_server; die "fake-gcs-server not ready after 60s (log: $log)"; }
    sleep 0.5; waited=$((waited + 1))
  done
  create_bucket "$bucket"
  create_bucket "$bucket2"
  write_env
  say "fake-gcs-server $version ready at http://127.0.0.1:$port, buckets $bucket $bucket2 (env: $env_file)"
}

stop_server() {
  local pid
  pid=$(running_pid) || { rm -f "$pid_file"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    [ "$waited" -ge 20 ] && kill -KILL "$pid" 2>/dev/null || true
    sleep 0.25; waited=$((waited + 1))
  done
  rm -f "$pid_file"
}

case "$action" in
  start) start ;;
  stop) stop_server; say "stopped (objects kept in $dir/objects)" ;;
  restart) stop_server; start ;;
  status) if pid=$(running_pid); then choose_port; echo "running pid $pid at http://127.0.0.1:$port"; else echo "stopped"; exit 1; fi ;;
  *) usage ;;
esac
