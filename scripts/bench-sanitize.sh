#!/usr/bin/env bash
# `rampart sanitize` against `rampart parse` on the same lines: N generated
# sshd and UFW lines (default 1,000,000) and, when ../shared is there,
# loghub's SSH, Linux and Apache logs repeated to N lines. Prints each
# command's time, lines a second, and sanitize's rate as a share of
# parse's (the target is 50 % or more), best of three.
# Usage: scripts/bench-sanitize.sh [RAMPART_BINARY] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}"
n=${2:-1000000}
head -c 32 /dev/urandom | base64 >"$dir/key"
mkdir -p "$dir/gen"
"$bin" generate --kind syslog --events "$n" --seed 9 --to "$dir/gen/syslog.log"
compare() {
    local label=$1 input=$2 lines parse sanitize
    lines=$(cat "$input"/* | wc -l)
    read -r parse _ _ <<<"$(best "$bin" parse -q --year 2025 "$input")"
    read -r sanitize _ _ <<<"$(best "$bin" sanitize --force --year 2025 --out "$dir/out" --key-file "$dir/key" "$input")"
    awk -v l="$label" -v n="$lines" -v p="$parse" -v s="$sanitize" 'BEGIN {
        printf "%s, %d lines: parse %.2f s (%.0f lines/s), sanitize %.2f s (%.0f lines/s), %.0f%% of parse\n",
            l, n, p, n / p, s, n / s, 100 * p / s }'
}
compare "generated sshd and UFW" "$dir/gen"
if [ -d "$shared/corpora/loghub" ]; then
    mkdir -p "$dir/real"
    cat "$shared"/corpora/loghub/{OpenSSH,Linux,Apache}/*_2k.log >"$dir/real.src"
    repeat_lines "$dir/real.src" "$dir/real/real.log" "$n"
    compare "loghub SSH, Linux and Apache" "$dir/real"
else
    echo "skipped: ../shared/corpora absent"
fi
