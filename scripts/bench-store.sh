#!/usr/bin/env bash
# The store issue's figures at scale. Generated sshd, Apache and UFW logs
# with many addresses and users (scripts/gen-mixed.py), N lines (default
# 10,000,000): ingest into an empty store (events/s, bytes per event, peak
# memory); then 1,000,000 more lines into an empty store and into the full
# one (the rate must stay at 70 % or more), twice: the next three days'
# logs (a SIEM's daily case) and a backfill over the same 30 days (every
# index written all over); then, on the full store, the
# first page of alerts with filters, an indexed event query, a full-text
# term, a count by field and `stats`, best of three each.
# Usage: scripts/bench-store.sh [RAMPART_BINARY] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}"
n=${2:-10000000}
mkdir -p "$dir/big" "$dir/more" "$dir/next"
python3 scripts/gen-mixed.py "$dir/big" "$n" 7
python3 scripts/gen-mixed.py "$dir/next" 1000000 9 30 3
python3 scripts/gen-mixed.py "$dir/more" 1000000 8
db=$dir/store/rampart.db
timed() {
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -o "$dir/time" -f "%M" "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v z="$t1" -v m="$(tail -1 "$dir/time")" 'BEGIN { printf "%.2f %d\n", z - a, m }'
}
read -r big_s big_kb <<<"$(timed "$bin" --db "$db" ingest -q --year 2025 "$dir"/big/*.log)"
bytes=$(du -cb "$dir/store" | tail -1 | cut -f1)
echo "$n lines into an empty store: $big_s s, $(awk -v n="$n" -v s="$big_s" 'BEGIN { printf "%.0f", n / s }') events/s, peak $((big_kb / 1024)) MB, $((bytes / n)) bytes/event"
for case in next more; do
    read -r empty_s _ <<<"$(timed "$bin" --db "$dir/empty-$case/rampart.db" ingest -q --year 2025 "$dir/$case"/*.log)"
    read -r full_s _ <<<"$(timed "$bin" --db "$db" ingest -q --year 2025 "$dir/$case"/*.log)"
    what=$([ "$case" = next ] && echo "of the next three days" || echo "over the same 30 days (backfill)")
    awk -v e="$empty_s" -v f="$full_s" -v w="$what" 'BEGIN { printf "1,000,000 more lines %s: %.2f s into an empty store, %.2f s into the full one (%.0f%% of the empty-store rate)\n", w, e, f, 100 * e / f }'
done
ip=$(head -1 "$dir/big/auth.log" | grep -o 'from [0-9.]*' | cut -d' ' -f2)
query() {
    local label=$1
    shift
    read -r s _ _ <<<"$(best "$bin" --db "$db" "$@")"
    awk -v s="$s" -v l="$label" 'BEGIN { printf "  %-44s %6.0f ms\n", l, s * 1000 }'
}
echo "on the full store (process start included):"
query "alerts page (high+, open, 50)" alerts --severity high --status open --limit 50
query "alerts page (one rule, 50)" alerts --rule ssh-login-off-hours --limit 50
query "events: source.ip=$ip (first 50)" events -q "source.ip=$ip" --limit 50
query "events: host.name=web03 (first 50)" events -q "host.name=web03" --limit 50
query "events: full-text 'password' (first 50)" events -q password --limit 50
query "events: full-text 'gobuster' (first 50)" events -q gobuster --limit 50
query "events: count by event.dataset" events --count-by event.dataset
query "stats" stats
query "process start (rampart --version)" --version
