#!/usr/bin/env bash
# The pipelines issue's latency case: how long from a syslog line received
# by `rampart run` to its alert written, at a given share of the maximum
# rate. `rampart replay` sends seed 002's sshd and UFW lines over TCP at
# RATE lines/s (default 200,000, about half of what bench-syslog.sh
# measures here) while a probe sends, every 20 ms over its own
# connection, a line that a rule of its own turns into an alert; the
# probe watches the alerts file and prints the latency percentiles.
# Usage: scripts/bench-latency.sh [RAMPART_BINARY] [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_start "${1:-}" seed-data/seed2
rate=${2:-200000}
seconds=${3:-10}
lines=$((rate * seconds))
repeat_lines "$shared/seed-data/seed2/inferred_auth.log" "$dir/auth.log" $((lines / 2))
repeat_lines "$shared/seed-data/seed2/inferred_ufw_firewall.log" "$dir/ufw.log" $((lines / 2))

mkdir -p "$dir/rules"
cat >"$dir/rules/probe.yml" <<'EOF'
title: Latency probe
id: 0d5c3a52-4c1e-4bde-9b0e-6a4f5b7e2c11
logsource:
  definition: any event
detection:
  keywords:
    - latency-probe
  condition: keywords
level: low
EOF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$dir/pipeline.yml" <<EOF
rules: [rules]
sources:
  net:
    type: syslog
    listen: tcp://127.0.0.1:$port
sinks:
  alerts:
    type: file
    path: alerts.jsonl
    min_severity: low
EOF
"$bin" run --no-db -q --config "$dir/pipeline.yml" 2>"$dir/said" &
run_pid=$!
until grep -q listening "$dir/said" 2>/dev/null; do sleep 0.05; done

"$bin" replay -q "$dir/auth.log" "$dir/ufw.log" --to "tcp://127.0.0.1:$port" --rate "$rate" &
replay_pid=$!
python3 - "$port" "$dir/alerts.jsonl" "$seconds" "$rate" <<'PY'
import json, os, socket, sys, time
port, alerts, seconds, rate = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
probe = socket.create_connection(("127.0.0.1", port))
sent, seen = {}, {}
offset, pending = 0, b""
start = time.monotonic()
n = 0
next_probe = start + 0.5
while time.monotonic() - start < seconds + 2:
    now = time.monotonic()
    if now >= next_probe and now - start < seconds - 0.5:
        probe.sendall(b"<13>Dec  6 12:00:00 host app: latency-probe-%d\n" % n)
        sent[n] = time.monotonic()
        n += 1
        next_probe += 0.02
    if os.path.exists(alerts):
        with open(alerts, "rb") as f:
            f.seek(offset)
            chunk = f.read()
        offset += len(chunk)
        pending += chunk
        *whole, pending = pending.split(b"\n")
        for line in whole:
            a = json.loads(line)
            if a.get("title") != "Latency probe":
                continue
            text = json.dumps(a["events"])
            i = text.index("latency-probe-") + len("latency-probe-")
            k = int(text[i:].split('"')[0].split("\\")[0])
            seen.setdefault(k, time.monotonic())
    time.sleep(0.001)
lat = sorted((seen[k] - sent[k]) * 1000 for k in sent if k in seen)
if not lat:
    sys.exit("no probe alert was seen")
pick = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
print("latency from a line received to its alert written, under %s lines/s of load: "
      "%d probes (%d seen), p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms"
      % (rate, len(sent), len(lat), pick(50), pick(90), pick(99), lat[-1]))
PY
wait "$replay_pid" || true
kill -TERM "$run_pid"
wait "$run_pid" || true
