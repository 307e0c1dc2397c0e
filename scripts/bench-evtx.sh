#!/usr/bin/env bash
# The engine issue's EVTX case: the SigmaHQ Windows rules over about 645 MB
# of EVTX, the attack samples of ../shared/corpora replicated (hard links,
# so the page cache holds one copy) until the set reaches TARGET_MB. Times
# `rampart hunt` best of 3 with its CPU use and peak memory. Peers on the
# PATH (zircolite, hayabusa, chainsaw) are not run by this script; compare
# them in the same session by hand.
# Usage: scripts/bench-evtx.sh [RAMPART_BINARY]   (TARGET_MB=645)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}" corpora/evtx-attack-samples
corpora=$shared/corpora
target_mb=${TARGET_MB:-645}
mapfile -t samples < <(find "$corpora/evtx-attack-samples" -name '*.evtx' | sort)
bytes=0 copy=0
while [ $((bytes / 1000000)) -lt "$target_mb" ]; do
    mkdir -p "$dir/set/$copy"
    for f in "${samples[@]}"; do
        ln "$f" "$dir/set/$copy/$(basename "$f" .evtx)-$RANDOM$RANDOM.evtx" 2>/dev/null \
            || cp "$f" "$dir/set/$copy/"
        bytes=$((bytes + $(stat -c %s "$f")))
    done
    copy=$((copy + 1))
done
files=$(find "$dir/set" -name '*.evtx' | wc -l)
best=$(ALERTS_OUT="$dir/alerts.jsonl" best "$bin" hunt "$dir/set" --rules "$corpora/sigma/rules/windows" --no-builtin -q --format jsonl)
read -r secs cpu kb <<<"$best"
awk -v b="$bytes" -v f="$files" -v s="$secs" -v c="$cpu" -v k="$kb" -v a="$(wc -l <"$dir/alerts.jsonl")" 'BEGIN {
    printf "%.0f MB of EVTX in %d files: hunt %.2f s (%.0f MB/s), CPU %s, peak memory %.0f MB, %d alerts\n", b / 1e6, f, s, b / 1e6 / s, c, k / 1024, a }'
