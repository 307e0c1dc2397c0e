# Shared by the bench-*.sh scripts (sourced, not run).

# best CMD...: "wall-seconds cpu% peak-KB" of the fastest of three runs of
# CMD, its output thrown away (stdout to ALERTS_OUT when that is set). The
# wall time is read from the clock in nanoseconds, CPU and memory from
# /usr/bin/time.
best() {
    local best= run t0 t1 out=${ALERTS_OUT:-/dev/null}
    local timing
    timing=$(mktemp)
    for _ in 1 2 3; do
        t0=$(date +%s.%N)
        /usr/bin/time -o "$timing" -f "%P %M" "$@" >"$out" 2>/dev/null
        t1=$(date +%s.%N)
        run=$(awk -v a="$t0" -v z="$t1" -v r="$(tail -1 "$timing")" 'BEGIN { printf "%.4f %s\n", z - a, r }')
        best=$(awk -v r="$run" -v b="$best" 'BEGIN { split(r, x, " "); split(b, y, " "); if (b == "" || x[1] + 0 < y[1] + 0) print r; else print b }')
    done
    rm -f "$timing"
    echo "$best"
}

# bench_start [BINARY] [NEEDS]: sets $bin (the binary timed, built when
# missing), $shared (../shared, or RAMPART_SHARED) and $dir (a folder removed
# on exit). When NEEDS, a path under $shared, is absent, says skipped and
# ends the script.
bench_start() {
    bin=${1:-target/release/rampart}
    shared=${RAMPART_SHARED:-../shared}
    if [ -n "${2:-}" ] && [ ! -e "$shared/$2" ]; then
        echo "skipped: ../shared/${2%%/*} absent"
        exit 0
    fi
    [ -x "$bin" ] || cargo build --release
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
}

# repeat_lines SRC DST N: the lines of SRC, repeated in turn up to N lines, in DST.
repeat_lines() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
with open(sys.argv[2], "w") as out:
    for i in range(int(sys.argv[3])):
        out.write(lines[i % len(lines)] + "\n")
PY
}

# mixed_logs N: seed 002's sshd, Apache and UFW samples each repeated to N
# lines, as three files in $dir; sets $files to them.
mixed_logs() {
    local name
    for name in auth apache_access ufw_firewall; do
        repeat_lines "$shared/seed-data/seed2/inferred_$name.log" "$dir/$name.log" "$1"
    done
    files=("$dir"/*.log)
}
