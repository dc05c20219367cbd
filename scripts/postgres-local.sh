#!/usr/bin/env bash
# A real PostgreSQL 15 server (Debian's postgresql-15) on loopback for tests and by hand, with password
# (SCRAM) authentication so that the password path of `--sink postgresql://...` is exercised.
#
# usage: postgres-local.sh start|stop|restart|status [--dir DIR] [--env-file FILE]
#   --dir       server state: data, socket, log, port (default ./.postgres-local); data survives stop/start
#   --env-file  where `start` writes POSTGRES_URL and friends (default DIR/postgres.env); source it
# initdb refuses to run as root: as root the server runs as the `postgres` user and DIR/pg is owned by it.
# Listens on 127.0.0.1 only, on a free port chosen at the first start; the Unix socket is in DIR/pg.
set -euo pipefail

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
action=$1; shift
dir=.postgres-local env_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --env-file) env_file=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "postgres-local.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -n "$env_file" ] || env_file=$dir/postgres.env
bin=${POSTGRES_BIN:-/usr/lib/postgresql/15/bin}
pg=$dir/pg            # owned by the server's user
data=$pg/data
log=$pg/server.log
port_file=$dir/port
# Fixed test credentials: loopback only, never a real secret.
user=mtastream password=pg-secret-for-tests database=mtastream

say() { echo "postgres-local: $*" >&2; }
die() { say "$*"; exit 1; }

# as_server CMD...: runs CMD as the user that owns the cluster.
as_server() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() { [ -f "$data/postmaster.pid" ] && as_server "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

write_env() {
  local port; port=$(cat "$port_file")
  cat >"$env_file" <<ENV
POSTGRES_HOST=127.0.0.1
POSTGRES_PORT=$port
POSTGRES_USER=$user
POSTGRES_PASSWORD=$password
POSTGRES_DB=$database
POSTGRES_URL=postgresql://$user:$password@127.0.0.1:$port/$database
POSTGRES_SOCKET_DIR=$pg
ENV
}

start() {
  [ -x "$bin/initdb" ] || die "$bin/initdb not found: run scripts/install-test-deps.sh (postgresql-15)"
  [ -c /dev/null ] || die "/dev/null is not a character device (initdb needs it)"
  if running; then write_env; say "already running on port $(cat "$port_file")"; return 0; fi
  mkdir -p "$pg"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$pg"; fi
  chmod 700 "$pg"
  if [ ! -f "$data/PG_VERSION" ]; then
    # Local socket: trust (the setup below); TCP on loopback: SCRAM passwords only.
    as_server "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { tail -20 "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  [ -f "$port_file" ] || free_port >"$port_file"
  local port; port=$(cat "$port_file")
  as_server "$bin/pg_ctl" -D "$data" -l "$log" -w -t 120 \
    -o "-p $port -k $pg -c listen_addresses=127.0.0.1 -c fsync=on -c password_encryption=scram-sha-256" start >/dev/null ||
    { tail -20 "$log" >&2; die "the server did not start (log: $log)"; }
  if [ ! -f "$dir/setup-done" ]; then
    as_server psql -q -h "$pg" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE ROLE $user LOGIN PASSWORD '$password';
CREATE DATABASE $database OWNER $user;
SQL
    touch "$dir/setup-done"
  fi
  write_env
  say "running on 127.0.0.1:$port (env: $env_file)"
}

stop() {
  if running; then as_server "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null; say "stopped"; else say "not running"; fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if running; then echo "running on 127.0.0.1:$(cat "$port_file")"; else echo "stopped"; exit 1; fi ;;
  *) usage ;;
esac
