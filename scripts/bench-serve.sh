#!/usr/bin/env bash
# The web console's figures at scale. A store of N events (default
# 10,000,000) over the last 23 hours: generated sshd and UFW lines with an
# attack planted every 100 (about 100,000 alerts at the default N), one in
# twenty seed 001 IDS lines, and a feed of some of their sources given as
# intelligence (so some are malicious). Then `rampart serve` over it, timed by scripts/load-serve.py:
# each page worked out afresh against the HTTP round trip, the overview's
# page weight, and 50 browsers refreshing the overview every second while
# another ingest writes N/10 more lines (at most 1,000,000).
# Usage: scripts/bench-serve.sh [RAMPART_BINARY] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}"
n=${2:-10000000}
ids=$((n / 20))
sys=$((n - ids))
span=82800
start=$(date -u -d "-23 hours" +%Y-%m-%dT%H:%M:%SZ)
year=$(date -u +%Y)
"$bin" generate --kind syslog --events "$sys" --rate $(((sys + span - 1) / span)) \
    --attack-every 100 --start "$start" --seed 3 --to "$dir/sys.log"
"$bin" generate --kind ids --events "$ids" --rate $(((ids + span - 1) / span)) \
    --start "$start" --seed 4 --to "$dir/ids.log"
more=$((n / 10 < 1000000 ? n / 10 : 1000000))
"$bin" generate --kind ids --events "$more" --rate 100 --start "$start" --seed 5 --to "$dir/more.log"
awk 'NR % 50 == 0 { split($10, a, ":"); print a[1] "\t" (NR % 9 + 1) }' "$dir/ids.log" \
    | head -20000 >"$dir/feed.txt"
db=$dir/store/rampart.db
t0=$(date +%s.%N)
"$bin" --db "$db" ingest -q --year "$year" --intel "$dir/feed.txt" "$dir/sys.log" "$dir/ids.log" >/dev/null
t1=$(date +%s.%N)
alerts=$(sqlite3 "$db" "SELECT count(*) FROM alerts")
events=$(sqlite3 "$db" "SELECT count(*) FROM events")
awk -v a="$t0" -v z="$t1" -v e="$events" -v al="$alerts" \
    'BEGIN { printf "store: %d events and %d alerts, ingested in %.0f s\n", e, al, z - a }'
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" --db "$db" serve --listen "127.0.0.1:$port" 2>"$dir/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do
    grep -q serving "$dir/serve.log" 2>/dev/null && break
    sleep 0.1
done
ip=$(sed -n 1000p "$dir/ids.log" | awk '{ split($10, a, ":"); print a[1] }')
echo "rampart serve on that store:"
python3 scripts/load-serve.py "http://127.0.0.1:$port" "$db" "$ip" 0
"$bin" --db "$db" ingest -q --intel "$dir/feed.txt" "$dir/more.log" >/dev/null &
writer=$!
python3 scripts/load-serve.py "http://127.0.0.1:$port" "$db" "$ip" 50 30
if kill -0 $writer 2>/dev/null; then echo "  (the ingest of $more more lines was still writing at the end)"; fi
wait $writer
