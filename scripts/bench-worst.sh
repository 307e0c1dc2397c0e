#!/usr/bin/env bash
# The correlation worst cases of the engine issue as whole runs: a million
# sshd lines per case (scripts/gen-worst.py), `rampart parse` and `rampart
# hunt` with one correlation of each type (and its two member rules, from
# crates/rampart-detect/tests/worst/mod.rs) over the same file, best of 3,
# with the ratio of each hunt to parsing. The one-core view of the same cases
# is `cargo bench -p rampart-detect --bench correlation_worst_cases`.
# Usage: scripts/bench-worst.sh [RAMPART_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}"

# The rules, one file per correlation, cut out of the tests' Rust source.
python3 - "$dir" <<'PY'
import re, sys
src = open("crates/rampart-detect/tests/worst/mod.rs").read()
members = re.search(r'pub const MEMBERS: &str = r#"(.*?)"#;', src, re.S).group(1)
for m in re.finditer(r'\("(\w+)", (?:true|false), "(.*?)"\),', src):
    with open(f"{sys.argv[1]}/{m.group(1)}.yml", "w") as out:
        out.write(members + "---\n" + m.group(2).replace("\\n", "\n") + "\n")
PY

printf '%-11s %-9s %12s %8s %8s %9s\n' case run "lines/s" seconds CPU "÷ parse"
for case in HotKey ManyGroups Disorder; do
    log="$dir/$case.log"
    python3 scripts/gen-worst.py "$case" "$log"
    lines=$(wc -l <"$log")
    read -r parse_s parse_cpu _ <<<"$(best "$bin" parse "$log")"
    awk -v c="$case" -v n="$lines" -v s="$parse_s" -v p="$parse_cpu" 'BEGIN {
        printf "%-11s %-9s %8.0f k/s %8.2f %8s %8.2f×\n", c, "parse", n/s/1e3, s, p, 1 }'
    for rules in count distinct both ordered sum avg median p90; do
        read -r s cpu _ <<<"$(best "$bin" hunt "$log" --no-builtin --no-db -r "$dir/$rules.yml" -q --format jsonl)"
        awk -v c="$case" -v r="$rules" -v n="$lines" -v s="$s" -v p="$cpu" -v b="$parse_s" 'BEGIN {
            printf "%-11s %-9s %8.0f k/s %8.2f %8s %8.2f×\n", c, r, n/s/1e3, s, p, s/b }'
    done
    rm -f "$log"
done
