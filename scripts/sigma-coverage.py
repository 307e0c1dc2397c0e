#!/usr/bin/env python3
"""SigmaHQ's cloud, identity, application and macOS rules against rampart:
per product, the rules that load, those that can run (a parser gives their
source) and those that fire on at least one of the project's fixtures.
Prints a Markdown table (docs/cloud-sources.md keeps the last one).

Usage: scripts/sigma-coverage.py [RAMPART_BINARY]   (RAMPART_SHARED=../shared)
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "target/release/rampart")
shared = os.environ.get("RAMPART_SHARED", os.path.join(root, "..", "shared"))
rules_root = os.path.join(shared, "corpora/sigma/rules")
if not os.path.isdir(rules_root):
    sys.exit("skipped: ../shared/corpora absent")
db = os.path.join(tempfile.mkdtemp(), "r.db")


def rampart(*args):
    return subprocess.run([binary, "--db", db, *args], capture_output=True, text=True)


fixtures = [os.path.join(root, "fixtures", d) for d in ("cloud", "identity", "application", "macos")]
products = []
for top in ("cloud", "identity", "application"):
    base = os.path.join(rules_root, top)
    for name in sorted(os.listdir(base)):
        if os.path.isdir(os.path.join(base, name)):
            products.append((f"{top}/{name}", os.path.join(base, name)))
products.append(("macos", os.path.join(rules_root, "macos")))

rows = []
total = collections.Counter()
for label, path in products:
    summary = rampart("rules", "validate", path).stdout.splitlines()[0]
    m = re.search(r"(\d+) rules and (\d+) correlations load \((\d+) for sources", summary)
    bad = re.search(r"(\d+) cannot run", summary)
    loaded, waiting, broken = int(m.group(1)), int(m.group(3)), int(bad.group(1))
    hunt = rampart("hunt", *fixtures, "--rules", path, "--no-builtin", "-q", "--format", "jsonl")
    fired = {json.loads(line)["rule_id"] for line in hunt.stdout.splitlines() if line.strip()}
    runnable = loaded - waiting
    rows.append((label, loaded + broken, runnable, len(fired)))
    total.update({"load": loaded + broken, "run": runnable, "fire": len(fired)})

print("| product | rules | runnable | fire on a fixture |")
print("| --- | ---: | ---: | ---: |")
for label, n, run, fire in rows:
    print(f"| {label} | {n} | {run} | {fire} |")
print(f"| all | {total['load']} | {total['run']} | {total['fire']} |")
