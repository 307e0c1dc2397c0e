#!/usr/bin/env bash
# A Kafka-protocol broker of the project's own (Tansu, from crates.io:
# scripts/install-servers.sh builds it once), for tests and benchmarks:
#   scripts/tansu.sh check                    whether the broker is installed
#   scripts/tansu.sh start DIR PORT           a broker on 127.0.0.1:PORT, its
#                                             topics in DIR/tansu.db (SQLite)
#   scripts/tansu.sh topic PORT NAME PARTS    a topic of PARTS partitions made
#   scripts/tansu.sh stop DIR                 stopped, by the PID kept in DIR
set -euo pipefail
tools=${RAMPART_TOOLS:-$HOME/.cache/rampart-tools}
bin=$(command -v tansu || true)
[ -n "$bin" ] || bin=$tools/bin/tansu
cmd=${1:-}
case $cmd in
check)
    [ -x "$bin" ]
    ;;
start)
    dir=$2
    port=$3
    mkdir -p "$dir"
    # The database's path is taken from the broker's folder.
    (cd "$dir" && exec "$bin" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine "sqlite://tansu.db" \
        >broker.log 2>&1) &
    echo $! >"$dir/pid"
    pid=$(cat "$dir/pid")
    for _ in $(seq 1 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            exit 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "the broker did not listen on $port; its log:" >&2
    tail -n 20 "$dir/broker.log" >&2 || true
    kill "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
    exit 1
    ;;
topic)
    "$bin" topic create "$3" --broker "tcp://127.0.0.1:$2" --partitions "$4" >/dev/null
    ;;
stop)
    dir=$2
    if [ -f "$dir/pid" ]; then
        kill "$(cat "$dir/pid")" 2>/dev/null || true
        rm -f "$dir/pid"
    fi
    ;;
*)
    echo "usage: $0 check | start DIR PORT | topic PORT NAME PARTITIONS | stop DIR" >&2
    exit 2
    ;;
esac
