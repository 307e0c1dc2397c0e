#!/usr/bin/env python3
"""Times `rampart serve` as browsers use it (bench-serve.sh runs it).

    load-serve.py URL DB QUERY_IP [CLIENTS] [SECONDS]

With CLIENTS 0 it prints, for the overview, the alerts page, an indexed event search and the
JSON overview, the median and worst time of five requests each made after
the shared overview has gone stale (so each is worked out afresh), beside
the time to fetch the style sheet (the HTTP round trip alone); the page
weight of the overview; else CLIENTS browsers refreshing the overview's
panels every second for SECONDS, as the page's script does (with the ETag),
while something else writes: requests, p50 and p99 latency, and the
largest the database's write-ahead log grew.
"""

import os
import statistics
import sys
import threading
import time
import urllib.request

url, db, ip = sys.argv[1], sys.argv[2], sys.argv[3]
clients = int(sys.argv[4]) if len(sys.argv) > 4 else 50
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 30.0


def fetch(path, headers=None):
    request = urllib.request.Request(url + path, headers=headers or {})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request) as response:
            body = response.read()
            status, tag = response.status, response.headers.get("ETag")
    except urllib.error.HTTPError as e:
        body, status, tag = e.read(), e.code, e.headers.get("ETag")
    return time.perf_counter() - t0, status, body, tag


def last_day():
    """`since=` a day ago, to the second: a view no browser has asked for."""
    return "since=" + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400))


def cold(path, n=5):
    times = []
    for _ in range(n):
        time.sleep(1.0)
        elapsed, status, _, _ = fetch(path.replace("{LAST_DAY}", last_day()))
        assert status == 200, (path, status)
        times.append(elapsed * 1000)
    return statistics.median(times), max(times)


def pages():
    base = statistics.median(fetch("/assets/app.css")[0] * 1000 for _ in range(20))
    print(f"  round trip (GET /assets/app.css, median of 20): {base:7.2f} ms")
    for label, path in [
        ("overview page, last day", "/?{LAST_DAY}"),
        ("overview JSON, last day", "/api/overview?{LAST_DAY}"),
        ("alerts page (newest 200)", "/alerts"),
        ("alerts page (open, high+)", "/alerts?status=open&severity=high"),
        (f"event search source.ip={ip} (first 100)", f"/events?q=source.ip%3D{ip}"),
    ]:
        median, worst = cold(path)
        print(f"  {label:44} median {median:7.1f} ms, worst {worst:7.1f} ms ({median / base:5.0f}x round trip)")

    page = fetch("/")[2]
    assets = sum(len(fetch(p)[2]) for p in ["/assets/app.css", "/assets/app.js"])
    print(f"  overview page weight: {len(page)} B of HTML + {assets} B of style and script = {(len(page) + assets) / 1024:.0f} KB")


if clients == 0:
    pages()
    sys.exit(0)

latencies, statuses, stop = [], {}, threading.Event()
lock = threading.Lock()


def browser():
    tag = None
    while not stop.is_set():
        t0 = time.perf_counter()
        elapsed, status, _, new_tag = fetch("/overview/panels", {"If-None-Match": tag} if tag else {})
        tag = new_tag or tag
        with lock:
            latencies.append(elapsed * 1000)
            statuses[status] = statuses.get(status, 0) + 1
        stop.wait(max(0.0, 1.0 - (time.perf_counter() - t0)))


wal = db + "-wal"
largest = 0
threads = [threading.Thread(target=browser) for _ in range(clients)]
for t in threads:
    t.start()
end = time.time() + seconds
while time.time() < end:
    if os.path.exists(wal):
        largest = max(largest, os.path.getsize(wal))
    time.sleep(0.25)
stop.set()
for t in threads:
    t.join()
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(
    f"  {clients} browsers refreshing every second for {seconds:.0f} s: {len(latencies)} requests "
    f"{dict(sorted(statuses.items()))}, p50 {p(0.50):.1f} ms, p99 {p(0.99):.1f} ms, worst {latencies[-1]:.1f} ms"
)
print(f"  largest write-ahead log meanwhile: {largest / 1048576:.1f} MB")
