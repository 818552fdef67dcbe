#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: loopback only, trust auth,
# data in a temporary directory.  `start` prints the database URL; `stop` removes it.
set -euo pipefail
port=${MINPING_PG_PORT:-54329}
dir=${MINPING_PG_DIR:-/tmp/minping-pg-test}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
run_as=()
if [ "$(id -u)" = 0 ]; then run_as=(runuser -u postgres --); fi

case "${1:-start}" in
  start)
    if [ -f "$dir/postmaster.pid" ]; then "${run_as[@]}" "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    "${run_as[@]}" "$bin/initdb" -D "$dir" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
    "${run_as[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null
    "${run_as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres minping_test
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/minping_test"
    ;;
  stop)
    if [ -f "$dir/postmaster.pid" ]; then "${run_as[@]}" "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
