#!/usr/bin/env bash
# Many small files against one file of the same lines: seed 002's sshd
# sample cut into 10,000 files of 10 lines, and the same 100,000 lines in
# one file. Times `rampart hunt` (built-in pack, alerts as JSON lines) over
# each, best of 3: the difference is what a file costs.
# Usage: scripts/bench-small-files.sh [RAMPART_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}" seed-data/seed2
seed=$shared/seed-data/seed2
mkdir "$dir/small"
python3 - "$seed/inferred_auth.log" "$dir" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
ten = "\n".join(lines[i % len(lines)] for i in range(10)) + "\n"
with open(f"{sys.argv[2]}/one.log", "w") as one:
    for i in range(10_000):
        open(f"{sys.argv[2]}/small/host{i}.log", "w").write(ten)
        one.write(ten)
PY
read -r small_s small_cpu _ <<<"$(best "$bin" hunt "$dir/small" --year 2025 -q --format jsonl)"
read -r one_s one_cpu _ <<<"$(best "$bin" hunt "$dir/one.log" --year 2025 -q --format jsonl)"
awk -v s="$small_s" -v sc="$small_cpu" -v o="$one_s" -v oc="$one_cpu" 'BEGIN {
    printf "100,000 lines: 10,000 files %.2f s (CPU %s), one file %.2f s (CPU %s); %.0f µs a file\n", s, sc, o, oc, (s - o) / 10000 * 1e6 }'
