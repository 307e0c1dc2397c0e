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
