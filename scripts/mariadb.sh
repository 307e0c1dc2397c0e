#!/usr/bin/env bash
# A MariaDB server of the project's own, for tests and benchmarks:
#   scripts/mariadb.sh start DIR PORT   a data folder in DIR/data, started on
#                                       PORT (127.0.0.1), a user `rampart`
#                                       with no password and a database `siem`
#   scripts/mariadb.sh stop DIR         stopped, by its pid file
# The server comes from the system's packages (scripts/install-servers.sh).
set -euo pipefail
cmd=$1
dir=$2
user=$(id -un)
case $cmd in
start)
    port=$3
    mkdir -p "$dir"
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
        --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1
    mariadbd --no-defaults --datadir="$dir/data" --port="$port" --bind-address=127.0.0.1 \
        --socket="$dir/sock" --pid-file="$dir/pid" --user="$user" \
        --log-error="$dir/server.log" 2>"$dir/server.out" &
    for _ in $(seq 1 100); do
        if mariadb --no-defaults --socket="$dir/sock" -uroot -e "SELECT 1" >/dev/null 2>&1; then
            break
        fi
        sleep 0.1
    done
    mariadb --no-defaults --socket="$dir/sock" -uroot -e "
        CREATE DATABASE IF NOT EXISTS siem;
        CREATE USER IF NOT EXISTS 'rampart'@'127.0.0.1';
        GRANT ALL ON *.* TO 'rampart'@'127.0.0.1';"
    ;;
stop)
    if [ -f "$dir/pid" ]; then
        kill "$(cat "$dir/pid")"
        for _ in $(seq 1 100); do
            [ -f "$dir/pid" ] || break
            sleep 0.1
        done
    fi
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
