#!/usr/bin/env bash
# Seed 001's own pipeline against rampart on the same input: its 200 IDS
# lines repeated to 1,000,000, with its IPsum feed. The seed's pandas +
# DuckDB load is reproduced in scripts/seed1/pipeline.py (pandas and duckdb
# from PyPI). Times each side best of 3 and prints the ratio.
# Usage: scripts/bench-seed1.sh [RAMPART_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}" seed-data/seed1
seed=$shared/seed-data/seed1
python3 -c "import pandas, duckdb" 2>/dev/null || pip install -q pandas duckdb
repeat_lines "$seed/ids.log" "$dir/ids.log" 1000000

read -r seed_s seed_cpu _ <<<"$(best python3 scripts/seed1/pipeline.py "$dir/ids.log" "$seed/ipsum_head300.txt")"
read -r wc_s _ <<<"$(best wc -l "$dir/ids.log")"
read -r parse_s parse_cpu _ <<<"$(best "$bin" parse "$dir/ids.log")"
read -r hunt_s hunt_cpu _ <<<"$(best "$bin" hunt "$dir/ids.log" --intel "$seed/ipsum_head300.txt" -q --format jsonl)"
awk -v s="$seed_s" -v sc="$seed_cpu" -v w="$wc_s" -v p="$parse_s" -v pc="$parse_cpu" -v h="$hunt_s" -v hc="$hunt_cpu" 'BEGIN {
    printf "1,000,000 IDS lines: seed 001 pipeline %.2f s (CPU %s); wc -l %.3f s; rampart parse %.2f s (CPU %s); rampart hunt %.2f s (CPU %s); hunt is %.1f× faster than the seed\n",
        s, sc, w, p, pc, h, hc, s / h }'
