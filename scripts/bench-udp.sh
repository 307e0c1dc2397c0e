#!/usr/bin/env bash
# The pipelines issue's UDP case: syslog over UDP has no flow control, so
# what a listener loses grows with the rate. `rampart replay` sends seed
# 002's sshd lines to a `rampart run` UDP listener at rising rates (N lines
# each, 200,000 unless given); the run's own count of what it read gives
# the loss at each rate.
# Usage: scripts/bench-udp.sh [RAMPART_BINARY] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}" seed-data/seed2
n=${2:-200000}
repeat_lines "$shared/seed-data/seed2/inferred_auth.log" "$dir/auth.log" "$n"
for rate in 20000 50000 100000 200000 400000 0; do
    port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf 'sources:\n  net:\n    type: syslog\n    listen: udp://127.0.0.1:%s\nsinks:\n  alerts:\n    type: file\n    path: %s/alerts.jsonl\n' \
        "$port" "$dir" >"$dir/pipeline.yml"
    "$bin" run --no-db -q --config "$dir/pipeline.yml" 2>"$dir/said" &
    pid=$!
    until grep -q listening "$dir/said" 2>/dev/null; do sleep 0.05; done
    if [ "$rate" -gt 0 ]; then
        "$bin" replay -q "$dir/auth.log" --to "udp://127.0.0.1:$port" --rate "$rate"
    else
        "$bin" replay -q "$dir/auth.log" --to "udp://127.0.0.1:$port"
    fi
    sleep 0.5
    kill -TERM "$pid"
    wait "$pid" || true
    got=$(tail -1 "$dir/said" | python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["events"])')
    awk -v r="$rate" -v n="$n" -v g="$got" 'BEGIN {
        printf "UDP at %s lines/s: %d sent, %d read, %.2f %% lost\n", (r > 0 ? r : "full speed"), n, g, 100 * (n - g) / n }'
done
