#!/usr/bin/env bash
# The full port scan of the engine issue: one source probing all 65,535
# ports each minute, as UFW lines, for 1 and 3 minutes. Times counting the
# lines (wc -l), `rampart parse` and `rampart hunt` (built-in pack, alerts as
# JSON lines) over the same file, best of 3, and prints lines/s and the
# ratios. Usage: scripts/bench-portscan.sh [RAMPART_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}"

printf '%-9s %9s %14s %14s %14s %10s %10s\n' minutes lines "wc -l" parse hunt "hunt÷parse" "hunt÷wc"
for minutes in 1 3; do
    log="$dir/scan$minutes.log"
    python3 scripts/gen-portscan.py "$log" --minutes "$minutes"
    lines=$(wc -l <"$log")
    read -r wc_s _ <<<"$(best wc -l "$log")"
    read -r parse_s _ <<<"$(best "$bin" parse "$log" --year 2025)"
    read -r hunt_s _ <<<"$(best "$bin" hunt "$log" --year 2025 -q --format jsonl)"
    awk -v m="$minutes" -v n="$lines" -v w="$wc_s" -v p="$parse_s" -v h="$hunt_s" 'BEGIN {
        printf "%-9s %9d %9.0f k/s %9.0f k/s %9.0f k/s %9.2f× %9.1f×\n", m, n, n/w/1e3, n/p/1e3, n/h/1e3, h/p, h/w }'
done
