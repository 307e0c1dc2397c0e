#!/usr/bin/env bash
# A retro-hunt: seed 002's sshd, Apache and UFW samples each repeated to N
# lines (100,000), ingested once, then `rampart hunt --stored` (today's
# rules over the stored events, read back from their JSON) beside `rampart
# hunt` over the same files, best of 3 each.
# Usage: scripts/bench-retro.sh [RAMPART_BINARY] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}" seed-data/seed2
mixed_logs "${2:-100000}"

db=$dir/retro.db
"$bin" --db "$db" ingest "${files[@]}" --year 2025 -q
events=$(cat "${files[@]}" | wc -l)
read -r files_s files_cpu _ <<<"$(best "$bin" --db "$db" hunt "${files[@]}" --year 2025 -q --format jsonl)"
read -r stored_s stored_cpu _ <<<"$(best "$bin" --db "$db" hunt --stored -q --format jsonl)"
awk -v n="$events" -v f="$files_s" -v fc="$files_cpu" -v s="$stored_s" -v sc="$stored_cpu" 'BEGIN {
    printf "%d events: hunt over the files %.2f s (%.0f k/s, CPU %s); hunt --stored %.2f s (%.0f k/s, CPU %s); stored÷files %.2f×\n",
        n, f, n/f/1e3, fc, s, n/s/1e3, sc, s/f }'
