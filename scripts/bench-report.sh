#!/usr/bin/env bash
# `rampart report` against `rampart parse` over the same N events of
# endpoint telemetry in seed 003's layouts (default 1,000,000, from
# scripts/gen-telemetry.py): each command's time, events a second, CPU,
# peak memory, and report's time as a multiple of parse's, best of three.
# The target is under 10 s for 1,000,000 events on 2 cores, memory flat
# (the half-size run is printed beside it to compare).
# Usage: scripts/bench-report.sh [RAMPART_BINARY] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}"
n=${2:-1000000}
run() {
    local events=$1 parse report
    python3 scripts/gen-telemetry.py "$dir/t$events" "$events"
    read -r parse pcpu pmem <<<"$(best "$bin" parse -q "$dir/t$events")"
    read -r report rcpu rmem <<<"$(best "$bin" report -q --force --out "$dir/out" --pid 1000 "$dir/t$events")"
    awk -v n="$events" -v p="$parse" -v pc="$pcpu" -v pm="$pmem" -v r="$report" -v rc="$rcpu" -v rm="$rmem" 'BEGIN {
        printf "%d events: parse %.2f s (%.0f events/s, %s CPU, %.0f MB), report %.2f s (%.0f events/s, %s CPU, %.0f MB), report = %.2f x parse\n",
            n, p, n / p, pc, pm / 1024, r, n / r, rc, rm / 1024, r / p }'
}
run $((n / 2))
run "$n"
