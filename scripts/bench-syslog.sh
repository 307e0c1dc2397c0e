#!/usr/bin/env bash
# The pipelines issue's syslog case: seed 002's sshd and UFW samples, each
# repeated to N/2 lines (N = 1,000,000 unless given), sent over TCP by
# `rampart replay`, side by side to
#   - rsyslog (imtcp → omfile, each message written as received, no
#     parsing), started here with a configuration and folder of its own;
#   - `rampart run`: a TCP syslog listener, parsing, the built-in pack,
#     alerts to a JSON-lines file.
# Each is timed from the first line sent until every line is written
# (rsyslog: its file holds N lines; rampart: the run, stopped as soon as
# the replay ends, has drained, run and flushed everything and exited).
# Best of 3 each, with the ratio. Usage:
#   scripts/bench-syslog.sh [RAMPART_BINARY] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}" seed-data/seed2
n=${2:-1000000}
command -v rsyslogd >/dev/null || { echo "skipped: rsyslogd not installed (apt-get install rsyslog)"; exit 0; }

repeat_lines "$shared/seed-data/seed2/inferred_auth.log" "$dir/auth.log" $((n / 2))
repeat_lines "$shared/seed-data/seed2/inferred_ufw_firewall.log" "$dir/ufw.log" $((n / 2))
lines=$(cat "$dir/auth.log" "$dir/ufw.log" | wc -l)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

rsyslog_once() {
    local port work
    port=$(free_port)
    work=$(mktemp -d -p "$dir")
    cat >"$work/rsyslog.conf" <<EOF
global(workDirectory="$work")
module(load="imtcp" MaxSessions="16")
input(type="imtcp" port="$port" address="127.0.0.1")
template(name="asReceived" type="string" string="%rawmsg%\n")
action(type="omfile" file="$work/out.log" template="asReceived")
EOF
    rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" 2>"$work/rsyslog.said" &
    local pid=$!
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port)).close()" 2>/dev/null; do sleep 0.05; done
    local t0 t1
    t0=$(now)
    "$bin" replay -q "$dir/auth.log" "$dir/ufw.log" --to "tcp://127.0.0.1:$port"
    until [ -f "$work/out.log" ] && [ "$(wc -l <"$work/out.log")" -ge "$lines" ]; do sleep 0.02; done
    t1=$(now)
    kill -TERM "$pid"
    wait "$pid" || true
    echo "$t1 - $t0" | bc
}

rampart_once() {
    local port work
    port=$(free_port)
    work=$(mktemp -d -p "$dir")
    cat >"$work/pipeline.yml" <<EOF
sources:
  net:
    type: syslog
    listen: tcp://127.0.0.1:$port
sinks:
  alerts:
    type: file
    path: $work/alerts.jsonl
EOF
    "$bin" run --no-db -q --config "$work/pipeline.yml" 2>"$work/said" &
    local pid=$!
    until grep -q listening "$work/said" 2>/dev/null; do sleep 0.05; done
    local t0 t1
    t0=$(now)
    "$bin" replay -q "$dir/auth.log" "$dir/ufw.log" --to "tcp://127.0.0.1:$port"
    kill -TERM "$pid"
    wait "$pid"
    t1=$(now)
    grep -q "\"events\":$lines," "$work/said" || { echo "rampart run did not read every line:" >&2; tail -1 "$work/said" >&2; exit 1; }
    echo "$t1 - $t0" | bc
}

fastest() {
    local best="" t
    for _ in 1 2 3; do
        t=$("$@")
        best=$(awk -v a="$t" -v b="$best" 'BEGIN { print (b == "" || a < b) ? a : b }')
    done
    echo "$best"
}

rsyslog_s=$(fastest rsyslog_once)
rampart_s=$(fastest rampart_once)
awk -v n="$lines" -v r="$rsyslog_s" -v p="$rampart_s" 'BEGIN {
    printf "%d syslog lines over TCP: rsyslog (imtcp → omfile, no parsing) %.2f s (%.0f k msgs/s); rampart run (parse, built-in pack, alerts to a file) %.2f s (%.0f k msgs/s); rampart ÷ rsyslog rate %.2f×\n",
        n, r, n/r/1e3, p, n/p/1e3, r/p }'
