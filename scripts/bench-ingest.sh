#!/usr/bin/env bash
# The store issue's ingest cases. 1) Seed 002's sshd, Apache and UFW
# samples each repeated to 333,334 lines (1,000,002 in three files):
# `rampart hunt` and `rampart ingest` into an empty store (all indexes and
# full-text search), best of 3, events/s, ingest÷hunt and bytes per event
# on disk. 2) Seed 001's 200 IDS lines repeated to 1,000,000 with its IPsum
# feed: seed 001's pandas + DuckDB load (scripts/seed1/pipeline.py) beside
# `rampart ingest --intel`. 3) When ClickHouse is installed: the same
# mixed lines ingested into a fresh ClickHouse database (a server of the
# script's own, scripts/clickhouse.sh), events/s and bytes per event.
# Usage: scripts/bench-ingest.sh [RAMPART_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}" seed-data/seed2
mixed_logs 333334
lines=$(cat "${files[@]}" | wc -l)
db=$dir/store/rampart.db
# An empty store for each run.
fresh_ingest() { rm -rf "$dir/store"; "$bin" --db "$db" ingest -q --year 2025 "$@"; }
export -f fresh_ingest
export bin db dir
read -r hunt_s hunt_cpu _ <<<"$(best "$bin" hunt "${files[@]}" --year 2025 -q --format jsonl)"
read -r ingest_s ingest_cpu ingest_kb <<<"$(best bash -c 'fresh_ingest "$@"' _ "${files[@]}")"
bytes=$(du -cb "$dir/store" | tail -1 | cut -f1)
awk -v n="$lines" -v h="$hunt_s" -v hc="$hunt_cpu" -v i="$ingest_s" -v ic="$ingest_cpu" -v k="$ingest_kb" -v b="$bytes" 'BEGIN {
    printf "%d mixed lines: hunt %.2f s (%.0f k/s, CPU %s); ingest %.2f s (%.0f k events/s, CPU %s, peak %.0f MB); ingest÷hunt %.1f×; store %.0f MB, %.0f bytes/event\n",
        n, h, n/h/1e3, hc, i, n/i/1e3, ic, k/1024, i/h, b/1e6, b/n }'

if command -v clickhouse-server >/dev/null 2>&1; then
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    bash scripts/clickhouse.sh start "$dir/clickhouse" "$port"
    trap 'bash scripts/clickhouse.sh stop "$dir/clickhouse"; rm -rf "$dir"' EXIT
    house=http://127.0.0.1:$port/
    # An empty database for each run.
    fresh_house() {
        curl -sf "$house" --data-binary "DROP DATABASE IF EXISTS bench" >/dev/null
        "$bin" --db "clickhouse://127.0.0.1:$port/bench" ingest -q --year 2025 "$@"
    }
    export -f fresh_house
    export house port
    read -r house_s house_cpu house_kb <<<"$(best bash -c 'fresh_house "$@"' _ "${files[@]}")"
    house_bytes=$(curl -sf "$house" --data-binary \
        "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'bench' AND active")
    stored=$(curl -sf "$house" --data-binary "SELECT uniqExact(id) FROM bench.events")
    awk -v n="$stored" -v i="$house_s" -v ic="$house_cpu" -v k="$house_kb" -v b="$house_bytes" 'BEGIN {
        printf "%d mixed lines into ClickHouse: ingest %.2f s (%.0f k events/s, rampart CPU %s, peak %.0f MB); %.0f MB on disk, %.0f bytes/event\n",
            n, i, n/i/1e3, ic, k/1024, b/1e6, b/n }'
else
    echo "skipped: ClickHouse not installed (scripts/install-servers.sh)"
fi

[ -e "$shared/seed-data/seed1" ] || { echo "skipped: ../shared/seed-data/seed1 absent"; exit 0; }
seed1=$shared/seed-data/seed1
python3 -c "import pandas, duckdb" 2>/dev/null || pip install -q pandas duckdb
repeat_lines "$seed1/ids.log" "$dir/ids.log" 1000000
read -r seed_s seed_cpu _ <<<"$(best python3 scripts/seed1/pipeline.py "$dir/ids.log" "$seed1/ipsum_head300.txt")"
read -r ids_s ids_cpu _ <<<"$(best bash -c 'fresh_ingest --intel "$0" "$@"' "$seed1/ipsum_head300.txt" "$dir/ids.log")"
awk -v s="$seed_s" -v sc="$seed_cpu" -v i="$ids_s" -v ic="$ids_cpu" 'BEGIN {
    printf "1,000,000 IDS lines with the IPsum feed: seed 001 pipeline %.2f s (CPU %s); rampart ingest %.2f s (CPU %s); ingest is %.2f× the seed'"'"'s speed\n",
        s, sc, i, ic, s / i }'
