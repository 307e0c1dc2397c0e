#!/usr/bin/env bash
# A PostgreSQL server of the project's own, for tests and benchmarks:
#   scripts/postgres.sh start DIR PORT   initdb in DIR/data (user `rampart`,
#                                        trust on 127.0.0.1), started on PORT
#   scripts/postgres.sh stop DIR         stopped, by its data folder
# The server comes from the system's packages (scripts/install-servers.sh).
# As root it runs as the `postgres` user, as PostgreSQL requires.
set -euo pipefail
bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (scripts/install-servers.sh)" >&2; exit 1; }
cmd=$1
dir=$2
as=()
if [ "$(id -u)" -eq 0 ]; then
    as=(runuser -u postgres --)
fi
case $cmd in
start)
    port=$3
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$dir"
        # The server's user must reach its folder.
        p=$dir
        while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p" 2>/dev/null || true; done
    fi
    "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U rampart >"$dir/initdb.log"
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
    ;;
stop)
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
