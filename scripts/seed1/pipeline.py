#!/usr/bin/env python3
"""Seed 001's pipeline, reproduced from its README for a side-by-side
benchmark: parse the IDS log with pandas (normalised timestamps), load it
into DuckDB as raw_logs, load the IPSUM feed as threat_ips, and build
enriched_logs by matching src_ip and dst_ip against it with the feed's
confidence (its count of blocklists). Prints the rows and malicious rows.

Usage: pipeline.py IDS_LOG IPSUM_FEED [DB]"""
import sys
import time

import duckdb
import pandas as pd

ids_log, feed = sys.argv[1], sys.argv[2]
db = sys.argv[3] if len(sys.argv) > 3 else ":memory:"
started = time.time()

# Log ingestion: `ts - logger - severity - PROTO - src:port --> dst:port - FLAG - description`.
pattern = (
    r"^(?P<timestamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) - (?P<logger>[^ ]+) - "
    r"(?P<severity>[^ ]+) - (?P<protocol>[^ ]+) - (?P<src_ip>[^:]+):(?P<src_port>\d+) --> "
    r"(?P<dst_ip>[^:]+):(?P<dst_port>\d+) - (?P<flag>[^ ]*) - (?P<description>.*)$"
)
lines = pd.read_csv(ids_log, sep="\x01", header=None, names=["line"], dtype=str, quoting=3, engine="c")
logs = lines["line"].str.extract(pattern)
logs = logs.dropna(subset=["timestamp"])
logs["timestamp"] = pd.to_datetime(logs["timestamp"], format="%Y-%m-%d %H:%M:%S,%f")
logs["src_port"] = logs["src_port"].astype(int)
logs["dst_port"] = logs["dst_port"].astype(int)

# Threat intelligence ingestion: IPSUM is `ip<TAB>lists`, with # comments.
threats = pd.read_csv(feed, sep="\t", comment="#", header=None, names=["ip", "confidence"])

con = duckdb.connect(db)
con.execute("CREATE OR REPLACE TABLE raw_logs AS SELECT * FROM logs")
con.execute("CREATE OR REPLACE TABLE threat_ips AS SELECT * FROM threats")
con.execute(
    """
    CREATE OR REPLACE TABLE enriched_logs AS
    SELECT r.*,
           (s.ip IS NOT NULL OR d.ip IS NOT NULL) AS is_malicious,
           COALESCE(s.confidence, d.confidence) AS threat_confidence
    FROM raw_logs r
    LEFT JOIN threat_ips s ON r.src_ip = s.ip
    LEFT JOIN threat_ips d ON r.dst_ip = d.ip
    """
)
rows, malicious = con.execute(
    "SELECT count(*), count(*) FILTER (WHERE is_malicious) FROM enriched_logs"
).fetchone()
print(f"{rows} rows, {malicious} malicious, {time.time() - started:.2f} s")
