#!/usr/bin/env bash
# The ClickHouse store's insert path and reads: N lines of generated sshd,
# Apache and UFW logs (gen-mixed.py, 1,000,000 unless given) through
# `rampart run --once` reading them on standard input, with a `clickhouse` sink taking
# events and alerts, against the physical baseline of the same pipeline
# writing the same events and alerts to a JSON-lines file. Prints events
# per second of each and their ratio, the CPU rampart and the server spent
# per event, the bytes per event on disk once merged, and how long the
# reading commands take over what was stored. The server is ClickHouse
# from the system's packages (scripts/install-servers.sh), started here.
# Usage: scripts/bench-clickhouse.sh [RAMPART_BINARY] [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}"
n=${2:-1000000}
bin=$(realpath "$bin")
mkdir -p "$dir/logs"
python3 scripts/gen-mixed.py "$dir/logs" "$n"
events=$(cat "$dir"/logs/* | wc -l)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash scripts/clickhouse.sh start "$dir/ch" "$port"
trap 'bash scripts/clickhouse.sh stop "$dir/ch"; rm -rf "$dir"' EXIT
server=$(cat "$dir/ch/pid")
url="clickhouse://127.0.0.1:$port/bench"

cpu_s() { awk -v tick="$(getconf CLK_TCK)" '{ print ($14 + $15) / tick }' "/proc/$1/stat"; }
# pipeline NAME SINK: a pipeline file reading standard input into SINK (YAML).
pipeline() {
    printf 'sources:\n  logs:\n    type: stdin\nsinks:\n  out:\n%s\n    take: all\nhealth_seconds: 0\n' \
        "$2" >"$dir/$1.yml"
}
pipeline file "    type: file
    path: $dir/out.jsonl"
pipeline house "    type: clickhouse
    database: $url"
# timed NAME: runs the pipeline NAME; "wall-seconds cpu-seconds" of rampart
# in $dir/NAME.time.
timed() {
    local t0 t1 timing
    timing=$(mktemp)
    rm -f "$dir/out.jsonl"
    t0=$(date +%s.%N)
    cat "$dir"/logs/* | /usr/bin/time -o "$timing" -f "%U %S" "$bin" --db "$dir/unused.db" \
        run --once -q --no-db --config "$dir/$1.yml" >/dev/null 2>"$dir/$1.err" ||
        { cat "$dir/$1.err" >&2; exit 1; }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v z="$t1" -v r="$(tail -1 "$timing")" \
        'BEGIN { split(r, c, " "); printf "%.3f %.3f\n", z - a, c[1] + c[2] }' >"$dir/$1.time"
    rm -f "$timing"
}

timed file
read -r base_wall base_cpu <"$dir/file.time"
server0=$(cpu_s "$server")
timed house
read -r house_wall house_cpu <"$dir/house.time"
server1=$(cpu_s "$server")
stored=$("$bin" --db "$url" stats | head -1)
curl -s "http://127.0.0.1:$port/?database=bench" --data-binary "OPTIMIZE TABLE events FINAL" >/dev/null
bytes=$(curl -s "http://127.0.0.1:$port/" --data-binary \
    "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'bench' AND table = 'events' AND active")
json_bytes=$(curl -s "http://127.0.0.1:$port/" --data-binary \
    "SELECT sum(length(doc)) FROM bench.events")

read_time() {
    local t0 t1
    t0=$(date +%s.%N)
    "$bin" --db "$url" "$@" >/dev/null
    t1=$(date +%s.%N)
    awk -v a="$t0" -v z="$t1" 'BEGIN { printf "%.3f", z - a }'
}

awk -v n="$events" -v bw="$base_wall" -v bc="$base_cpu" -v hw="$house_wall" -v hc="$house_cpu" \
    -v s0="$server0" -v s1="$server1" -v b="$bytes" -v j="$json_bytes" 'BEGIN {
    printf "%d events (%d lines of sshd, Apache and UFW logs)\n", n, n
    printf "into a JSON-lines file (baseline): %6.2f s  %8.0f events/s  rampart %.1f us/event\n", bw, n / bw, bc * 1e6 / n
    printf "into ClickHouse:                   %6.2f s  %8.0f events/s  rampart %.1f us/event, server %.1f us/event\n", hw, n / hw, hc * 1e6 / n, (s1 - s0) * 1e6 / n
    printf "ratio to the baseline: %.2f\n", (n / hw) / (n / bw)
    printf "on disk once merged: %.0f bytes per event (the event JSON alone: %.0f bytes)\n", b / n, j / n
}'
echo "stored: $stored"
echo "reads over it, seconds:"
echo "  alerts (newest 100):                 $(read_time alerts --limit 100)"
echo "  alerts, high and above, one address: $(read_time alerts --severity high --source-ip 203.0.113.7)"
echo "  events, source.ip in 10.0.0.0/8:     $(read_time events -q 'source.ip=10.0.0.0/8' --limit 100)"
echo "  events, free text, 100:              $(read_time events -q 'failed' --limit 100)"
echo "  events counted by source.ip:         $(read_time events --count-by source.ip --limit 10)"
echo "  stats:                               $(read_time stats)"
echo "  export of every event (JSON lines):  $(read_time export events --output "$dir/all.jsonl")"
