#!/usr/bin/env bash
# NATS JetStream and Kafka (a Tansu broker) as the transport between
# machines: N sshd lines (200,000 unless given) replayed into a stream or
# topic, each acknowledged by the server (publish rate), then read back by
# `rampart run` into a JSON-lines file, every message acknowledged once
# written (read rate); `wc -l` of the same lines as the physical floor.
# Usage: scripts/bench-bus.sh [RAMPART_BINARY] [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}"
n=${2:-200000}
bin=$(realpath "$bin")

python3 - "$dir/lines.log" "$n" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    for i in range(int(sys.argv[2])):
        out.write(f"Mar 14 03:{i // 60 % 60:02}:{i % 60:02} web01 sshd[9]: Connection closed by 192.0.2.{1 + i % 200} port {i} [preauth]\n")
PY
read -r wc_s _ <<<"$(best wc -l "$dir/lines.log")"

# now_s: the clock in seconds, to the nanosecond.
now_s() { date +%s.%N; }

# read_back NAME SOURCE_YAML: runs a pipeline from SOURCE_YAML into a file
# until it holds N lines; prints the seconds it took.
read_back() {
    local out="$dir/$1.jsonl" t0 pid
    printf 'sources:\n  bus:\n%s\nsinks:\n  out:\n    type: file\n    path: %s\n    take: events\nhealth_seconds: 0\nbuiltin: false\n' \
        "$2" "$out" >"$dir/$1.yml"
    t0=$(now_s)
    "$bin" run --no-db -q --config "$dir/$1.yml" 2>/dev/null &
    pid=$!
    while [ "$({ wc -l <"$out"; } 2>/dev/null || echo 0)" -lt "$n" ]; do sleep 0.05; done
    awk -v a="$t0" -v z="$(now_s)" 'BEGIN { printf "%.3f\n", z - a }'
    kill -TERM "$pid"
    wait "$pid" || true
}

report() {
    awk -v what="$1" -v n="$n" -v s="$2" -v w="$wc_s" 'BEGIN {
        printf "%-28s %10.0f lines/s %8.2f s %10.0f× wc -l\n", what, n / s, s, s / w }'
}

echo "$n lines; wc -l: $(awk -v n="$n" -v w="$wc_s" 'BEGIN { printf "%.0f lines/s", n / w }')"

# NATS JetStream.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nats-server -js -a 127.0.0.1 -p "$port" -sd "$dir/nats" >/dev/null 2>&1 &
nats_pid=$!
trap 'kill $nats_pid 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
t0=$(now_s)
"$bin" replay "$dir/lines.log" --to "nats://127.0.0.1:$port/bench" -q
report "NATS publish (replay)" "$(awk -v a="$t0" -v z="$(now_s)" 'BEGIN { print z - a }')"
s=$(read_back nats "    type: nats
    servers: nats://127.0.0.1:$port
    subject: bench")
report "NATS read (run → file)" "$s"
kill $nats_pid

# Kafka, through Tansu.
if bash scripts/tansu.sh check; then
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    bash scripts/tansu.sh start "$dir/tansu" "$port"
    trap 'bash scripts/tansu.sh stop "$dir/tansu"; rm -rf "$dir"' EXIT
    bash scripts/tansu.sh topic "$port" bench 3
    t0=$(now_s)
    "$bin" replay "$dir/lines.log" --to "kafka://127.0.0.1:$port/bench" -q
    report "Kafka publish (replay)" "$(awk -v a="$t0" -v z="$(now_s)" 'BEGIN { print z - a }')"
    s=$(read_back kafka "    type: kafka
    brokers: 127.0.0.1:$port
    topics: [bench]
    group: bench")
    report "Kafka read (run → file)" "$s"
else
    echo "Kafka: skipped (no broker; scripts/install-servers.sh builds Tansu)"
fi
