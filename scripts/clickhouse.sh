#!/usr/bin/env bash
# A ClickHouse server of the project's own, for tests and benchmarks:
#   scripts/clickhouse.sh start DIR PORT   data in DIR, HTTP on PORT and the
#                                          native protocol on PORT+1, both on
#                                          127.0.0.1; user `default`, no
#                                          password
#   scripts/clickhouse.sh stop DIR         stopped, by its pid file
# With RAMPART_SERVER_OWNER set to a process id, the server is also stopped,
# and DIR removed, once that process has exited (a test binary sharing one
# server between its tests has no moment of its own to stop it).
# The server comes from the system's packages (scripts/install-servers.sh).
set -euo pipefail
cmd=$1
dir=$(realpath -m "$2")
case $cmd in
start)
    port=$3
    mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
    cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$dir/server.log</log>
        <errorlog>$dir/server.err.log</errorlog>
    </logger>
    <http_port>$port</http_port>
    <tcp_port>$((port + 1))</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>10</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
</yandex>
XML
    cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default></default></quotas>
</yandex>
XML
    # The server's own --pid-file is not written when it runs in the
    # foreground: its process id is kept here.
    clickhouse-server --config-file="$dir/config.xml" >"$dir/server.out" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 200); do
        if [ "$(curl -s "http://127.0.0.1:$port/ping" 2>/dev/null)" = "Ok." ]; then
            if [ -n "${RAMPART_SERVER_OWNER:-}" ]; then
                script=$(realpath "$0")
                owner=$RAMPART_SERVER_OWNER
                nohup bash -c "while kill -0 $owner 2>/dev/null; do sleep 1; done
                    bash '$script' stop '$dir'; rm -rf '$dir'" >/dev/null 2>&1 &
            fi
            exit 0
        fi
        sleep 0.1
    done
    echo "clickhouse did not start; see $dir/server.err.log" >&2
    exit 1
    ;;
stop)
    if [ -f "$dir/pid" ]; then
        pid=$(cat "$dir/pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        rm -f "$dir/pid"
    fi
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
