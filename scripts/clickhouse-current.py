#!/usr/bin/env python3
"""Runs rampart's ClickHouse statements again on today's ClickHouse engine.

usage: scripts/clickhouse-current.py TRANSCRIPT

TRANSCRIPT is the file RAMPART_CLICKHOUSE_TRANSCRIPT named while rampart
talked to a ClickHouse server (the tests' 18.16 one): every statement,
every insert with its rows, every query with the rows it gave. Each is run
in chDB (pip install chdb), in a fresh folder, and each query's rows are
compared with the server's. Queries of the server's own tables
(system.parts: sizes on disk, system.mutations: deletes still running)
are run but not compared. Exit status 1 when a statement fails or rows
differ.
"""
import json
import sys
import tempfile

from chdb import session

SETTINGS = " SETTINGS output_format_json_quote_64bit_integers=0"


def rows_of(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main(path):
    failures = 0
    counts = {"execute": 0, "insert": 0, "select": 0, "compared": 0}
    with tempfile.TemporaryDirectory() as folder:
        sess = session.Session(folder)
        current = None
        with open(path, encoding="utf-8") as transcript:
            for number, line in enumerate(transcript, 1):
                record = json.loads(line)
                database = record.get("database")
                if database and database != current:
                    sess.query(f"CREATE DATABASE IF NOT EXISTS {database}")
                    sess.query(f"USE {database}")
                    current = database
                try:
                    if "execute" in record:
                        counts["execute"] += 1
                        sess.query(record["execute"])
                    elif "insert" in record:
                        counts["insert"] += 1
                        sess.query(
                            f"INSERT INTO {record['insert']} FORMAT JSONEachRow\n" + record["rows"]
                        )
                    else:
                        counts["select"] += 1
                        sql = record["select"]
                        got = rows_of(str(sess.query(sql + SETTINGS, "JSONEachRow")))
                        if "system." in sql:
                            continue
                        expected = rows_of("\n".join(record["rows"]))
                        if not record["whole"]:
                            got = got[: len(expected)]
                        counts["compared"] += 1
                        if got != expected:
                            failures += 1
                            print(f"line {number}: rows differ\n  {sql}")
                            for a, b in zip(expected, got):
                                if a != b:
                                    print(f"  18.16:   {a}\n  current: {b}")
                                    break
                            else:
                                print(f"  18.16 gave {len(expected)} rows, current {len(got)}")
                except Exception as e:  # noqa: BLE001 - every failure is reported
                    failures += 1
                    print(f"line {number}: {e}")
    print(
        f"{counts['execute']} statements, {counts['insert']} inserts, {counts['select']} queries "
        f"({counts['compared']} compared): {failures} failures"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
