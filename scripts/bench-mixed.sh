#!/usr/bin/env bash
# The engine issue's mixed case: seed 002's sshd, Apache and UFW samples
# (../shared/seed-data/seed2) each repeated to 300,000 lines, three files.
# Times counting the lines (wc -l), `rampart parse` and `rampart hunt`
# (built-in pack, alerts as JSON lines) over them, best of 3, with the CPU
# use of the best hunt. Usage: scripts/bench-mixed.sh [RAMPART_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}" seed-data/seed2
mixed_logs 300000

lines=$(cat "${files[@]}" | wc -l)
read -r wc_s _ <<<"$(best wc -l "${files[@]}")"
read -r parse_s parse_cpu _ <<<"$(best "$bin" parse "${files[@]}" --year 2025)"
read -r hunt_s hunt_cpu _ <<<"$(best "$bin" hunt "${files[@]}" --year 2025 -q --format jsonl)"
awk -v n="$lines" -v w="$wc_s" -v p="$parse_s" -v h="$hunt_s" -v pc="$parse_cpu" -v hc="$hunt_cpu" 'BEGIN {
    printf "%d lines: wc -l %.2f s; parse %.2f s (%.0f k lines/s, CPU %s); hunt %.2f s (%.0f k lines/s, CPU %s); hunt÷parse %.2f×\n",
        n, w, p, n/p/1e3, pc, h, n/h/1e3, hc, h/p }'
