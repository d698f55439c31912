#!/usr/bin/env bash
# Runs a command next to a throwaway PostgreSQL (Debian's package): a data
# directory under /tmp, a free loopback port, DATABASE_URL exported for the
# command, everything stopped and removed afterwards, whatever the outcome.
#   scripts/pg-test.sh cargo test -p backend --test qoe
# PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` user. PG_FSYNC=1 keeps fsync on (the benchmark); tests run
# without it, which is faster and loses nothing a test needs.
set -euo pipefail

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(pg_bin)" ]; then
  echo "pg-test: installing Debian's postgresql" >&2
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >/dev/null
  else
    echo "pg-test: postgresql is not installed and we are not root; run scripts/setup.sh as root" >&2
    exit 1
  fi
fi
BIN=$(pg_bin)

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dir=$(mktemp -d /tmp/jlp-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$dir"
stop() {
  as_pg "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

# A free port: bind port 0 and read what the kernel chose.
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
as_pg "$BIN/initdb" -D "$dir/data" -A trust -U jlp -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200"
[ "${PG_FSYNC:-0}" = 1 ] || opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
as_pg "$BIN/pg_ctl" -D "$dir/data" -o "$opts" -l "$dir/server.log" -w -t 30 start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }
as_pg "$BIN/createdb" -h 127.0.0.1 -p "$port" -U jlp jlp
export DATABASE_URL="postgres://jlp@127.0.0.1:$port/jlp"
echo "pg-test: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
