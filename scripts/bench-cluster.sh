#!/usr/bin/env bash
# Workers of a cluster over NATS JetStream against one `rampart hunt`:
# N lines of generated sshd, Apache and UFW logs (gen-mixed.py, 1,000,000
# unless given) and a full port scan (gen-portscan.py) are published as
# events by a collector (`rampart run` with a file source), then read by
# 1, 2 and 3 workers (`rampart run` with `cluster:`, each a cluster of its
# own over the same events stream), and by 3 of which one is killed (-9)
# mid-stream, and, over several NATS nodes, by 3 while one NATS node is
# killed (-9). Each run's alerts are compared with hunt's (ids, counts,
# events); the CPU each process spent (the servers' included) is given in
# microseconds per event, for the worker's kill how long its partitions
# went unowned, and for the node's how long the cluster did not answer.
# NODES=3 runs a three-node JetStream cluster (streams with three
# replicas) in place of one server; PER_MESSAGE sets the events a message
# of the collector holds (256 unless given).
# Usage: scripts/bench-cluster.sh [RAMPART_BINARY] [LINES] [NODES]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}"
n=${2:-1000000}
nodes=${3:-1}
bin=$(realpath "$bin")
mkdir -p "$dir/logs"
python3 scripts/gen-mixed.py "$dir/logs" "$n"
python3 scripts/gen-portscan.py --minutes 1 --sources 3 "$dir/logs/scan.log"
events=$(cat "$dir"/logs/* | wc -l)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_s() { date +%s.%N; }
# cpu_s PID...: user and system seconds the processes have spent so far
# (those still running).
cpu_s() {
    local total=0 p
    for p in "$@"; do
        [ -e "/proc/$p/stat" ] || continue
        total=$(awk -v t="$total" -v tick="$(getconf CLK_TCK)" '{ print t + ($14 + $15) / tick }' "/proc/$p/stat")
    done
    echo "$total"
}

pids=()
urls=()
ports=()
monitors=()
for i in $(seq 0 $((nodes - 1))); do ports+=("$(free_port) $(free_port) $(free_port)"); done
for i in $(seq 0 $((nodes - 1))); do
    read -r port route monitor <<<"${ports[$i]}"
    monitors+=("$monitor")
    args=(-js -a 127.0.0.1 -p "$port" -m "$monitor" -sd "$dir/node$i")
    if [ "$nodes" -gt 1 ]; then
        routes=""
        for j in $(seq 0 $((nodes - 1))); do
            [ "$j" = "$i" ] && continue
            read -r _ r _ <<<"${ports[$j]}"
            routes="$routes,nats://127.0.0.1:$r"
        done
        args+=(--name "node$i" --cluster_name bench --cluster "nats://127.0.0.1:$route" --routes "${routes#,}")
    fi
    nats-server "${args[@]}" >/dev/null 2>&1 &
    pids+=($!)
    # Killed on purpose later: no job notice for it.
    disown
    urls+=("nats://127.0.0.1:$port")
done
# The servers are not this shell's jobs: each is waited for by its pid.
stop_servers() {
    kill "${pids[@]}" 2>/dev/null || true
    for p in "${pids[@]}"; do
        while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
    done
    wait 2>/dev/null
    rm -rf "$dir"
}
trap stop_servers EXIT
# Until every node names the same JetStream metadata leader of a group of
# all of them (a node that started a group of its own never heals).
python3 - "$nodes" "${monitors[@]}" <<'PY'
import json, sys, time, urllib.request
size, monitors = int(sys.argv[1]), sys.argv[2:]
deadline = time.time() + 60
while True:
    leaders = []
    for m in monitors:
        try:
            meta = json.load(urllib.request.urlopen("http://127.0.0.1:%s/jsz" % m, timeout=2)).get("meta_cluster") or {}
        except OSError:
            meta = {}
        if size == 1 or meta.get("cluster_size") == size:
            leaders.append(meta.get("leader", "") if size > 1 else "one")
    if len(leaders) == size and leaders[0] and len(set(leaders)) == 1:
        break
    if time.time() > deadline:
        sys.exit("the NATS nodes did not form one cluster: %s" % leaders)
    time.sleep(0.2)
PY
servers=$(IFS=,; echo "${urls[*]}")

# The baseline: one process.
t0=$(now_s)
/usr/bin/time -o "$dir/hunt.time" -f "%U %S" "$bin" hunt --no-db "$dir/logs" --format jsonl -o "$dir/hunt.jsonl" 2>/dev/null
hunt_s=$(awk -v a="$t0" -v z="$(now_s)" 'BEGIN { print z - a }')
hunt_cpu=$(awk '{ print $1 + $2 }' "$dir/hunt.time")

cat >"$dir/collector.yml" <<EOF
sources:
  logs:
    type: file
    paths: [$dir/logs]
    follow: false
sinks:
  db:
    type: store
    path: $dir/collector.db
  bus:
    type: nats
    servers: $servers
    subject: bench.events
    replicas: $nodes
    records_per_message: ${PER_MESSAGE:-256}
    take: events
health_seconds: 0
EOF
server_cpu0=$(cpu_s "${pids[@]}")
t0=$(now_s)
/usr/bin/time -o "$dir/collector.time" -f "%U %S" "$bin" run --no-db -q --once --config "$dir/collector.yml" 2>/dev/null
collector_s=$(awk -v a="$t0" -v z="$(now_s)" 'BEGIN { print z - a }')
collector_cpu=$(awk '{ print $1 + $2 }' "$dir/collector.time")
collector_server_cpu=$(awk -v a="$server_cpu0" -v z="$(cpu_s "${pids[@]}")" 'BEGIN { print z - a }')

worker_file() { # CLUSTER WORKER
    cat >"$dir/$1-$2.yml" <<EOF
cluster:
  servers: $servers
  name: $1
  events: bench.events
  worker: $2
  replicas: $nodes
  lease_seconds: 3
  ack_wait_seconds: 10
sinks:
  out:
    type: file
    path: $dir/$1-$2.jsonl
    take: alerts
health_seconds: 0
EOF
    echo "$dir/$1-$2.yml"
}

# compare CLUSTER: "same" or what differs from hunt, and alerts written twice.
compare() {
    python3 - "$dir/hunt.jsonl" "$dir/$1"-*.jsonl <<'PY'
import json, sys
def alerts(paths):
    out, lines = {}, 0
    for p in paths:
        for line in open(p):
            lines += 1
            a = json.loads(line)
            out[a["id"]] = (a["rule_id"], a["count"], [e.get("log", {}).get("file", {}).get("line") for e in a["events"]])
    return out, lines
want, _ = alerts(sys.argv[1:2])
got, lines = alerts(sys.argv[2:])
differ = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
print(("same %d alerts" % len(want)) if not differ else "DIFFERENT: %d of %d alerts" % (len(differ), len(want)), "(%d written twice)" % (lines - len(got)))
for k in differ[:3]:
    print("  %s: hunt %s, cluster %s" % (k, want.get(k), got.get(k)), file=sys.stderr)
PY
}

# run_workers CLUSTER COUNT [KILL_AFTER [node]]: wall seconds, worker CPU
# seconds, server CPU seconds, and seconds the killed worker's partitions
# went unowned (or, with `node`, the first NATS node killed in its place,
# seconds until the cluster answered again).
run_workers() {
    local cluster=$1 count=$2 kill_after=${3:-} victim=${4:-worker} wpids=() w t0 s0 threads=1 unowned=0 dead_cpu=0
    [ "$count" = 1 ] && threads=2
    s0=$(cpu_s "${pids[@]}")
    t0=$(now_s)
    for w in $(seq 1 "$count"); do
        /usr/bin/time -o "$dir/$cluster-w$w.time" -f "%U %S" \
            "$bin" run --no-db -q --once --threads "$threads" --config "$(worker_file "$cluster" "w$w")" 2>"$dir/$cluster-w$w.err" &
        wpids+=($!)
    done
    if [ -n "$kill_after" ] && [ "$victim" = node ]; then
        sleep "$kill_after"
        # What the node spent until its death still counts.
        dead_cpu=$(cpu_s "${pids[0]}")
        kill -9 "${pids[0]}"
        local killed_at
        killed_at=$(now_s)
        until "$bin" cluster status --json --config "$dir/$cluster-w1.yml" >/dev/null 2>&1; do
            sleep 0.05
        done
        unowned=$(awk -v a="$killed_at" -v z="$(now_s)" 'BEGIN { print z - a }')
    elif [ -n "$kill_after" ]; then
        sleep "$kill_after"
        pkill -9 -f "$dir/$cluster-w2.yml" || true
        local killed_at
        killed_at=$(now_s)
        # Until another worker holds every partition w2 held.
        while "$bin" cluster status --json --config "$dir/$cluster-w1.yml" 2>/dev/null |
            python3 -c 'import json, sys; s = json.load(sys.stdin); sys.exit(0 if any(p["owner"] in (None, "w2") for p in s["partitions"]) else 1)'; do
            sleep 0.05
        done
        unowned=$(awk -v a="$killed_at" -v z="$(now_s)" 'BEGIN { print z - a }')
    fi
    for w in "${wpids[@]}"; do wait "$w" || true; done
    local wall cpu server
    wall=$(awk -v a="$t0" -v z="$(now_s)" 'BEGIN { print z - a }')
    cpu=$(cat "$dir/$cluster"-w*.time 2>/dev/null | awk '$1 ~ /^[0-9.]+$/ { t += $1 + $2 } END { print t + 0 }')
    server=$(awk -v a="$s0" -v z="$(cpu_s "${pids[@]}")" -v d="$dead_cpu" 'BEGIN { print z + d - a }')
    echo "$wall $cpu $server $unowned"
}

per_event() { awk -v s="$1" -v n="$events" 'BEGIN { printf "%.1f", s * 1e6 / n }'; }

echo "$events events, $nodes NATS node(s), 2 cores"
printf '%-34s %8s %12s %14s %14s\n' "run" "seconds" "events/s" "rampart µs/ev" "servers µs/ev"
printf '%-34s %8.2f %12.0f %14s %14s\n' "hunt (one process)" "$hunt_s" "$(awk -v n="$events" -v s="$hunt_s" 'BEGIN { print n / s }')" "$(per_event "$hunt_cpu")" "-"
printf '%-34s %8.2f %12.0f %14s %14s\n' "collector: parse and publish" "$collector_s" "$(awk -v n="$events" -v s="$collector_s" 'BEGIN { print n / s }')" "$(per_event "$collector_cpu")" "$(per_event "$collector_server_cpu")"
for count in 1 2 3; do
    read -r wall cpu server _ <<<"$(run_workers "w$count" "$count")"
    printf '%-34s %8.2f %12.0f %14s %14s  %s\n' "$count worker(s)" "$wall" "$(awk -v n="$events" -v s="$wall" 'BEGIN { print n / s }')" "$(per_event "$cpu")" "$(per_event "$server")" "$(compare "w$count")"
done
read -r wall cpu server unowned <<<"$(run_workers kill 3 2)"
printf '%-34s %8.2f %12.0f %14s %14s  %s\n' "3 workers, one killed after 2 s" "$wall" "$(awk -v n="$events" -v s="$wall" 'BEGIN { print n / s }')" "$(per_event "$cpu")" "$(per_event "$server")" "$(compare kill)"
echo "the killed worker's partitions were unowned for ${unowned} s (lease 3 s); its events came again after the ack wait (10 s)"
if [ "$nodes" -gt 1 ]; then
    read -r wall cpu server unowned <<<"$(run_workers node 3 2 node)"
    printf '%-34s %8.2f %12.0f %14s %14s  %s\n' "3 workers, a NATS node killed at 2 s" "$wall" "$(awk -v n="$events" -v s="$wall" 'BEGIN { print n / s }')" "$(per_event "$cpu")" "$(per_event "$server")" "$(compare node)"
    echo "the first 'cluster status' begun after the node was killed answered ${unowned} s after it"
fi
