#!/usr/bin/env python3
"""Writes the correlation worst cases of the engine issue as sshd lines, as
crates/rampart-detect/tests/worst/mod.rs builds them for the benchmark:
HotKey (one source, a million matches in one window), ManyGroups (a new
source per line, ten bursts that must alert) and Disorder (one source whose
times repeat and jump back and forth).

Usage: gen-worst.py CASE OUT [--lines N]"""
import argparse
import datetime
import ipaddress

BURST_EVERY = 100_000
BURST = 12
BURST_SOURCES = 0xF000_0000
START = datetime.datetime(2025, 3, 14, 11, 0, 0, tzinfo=datetime.timezone.utc)


def hit(case, i, n):
    """(answer, source, micros, port) of line i of n."""
    if case == "HotKey":
        return i % 2 == 1, 1, i, i % 65_536
    if case == "ManyGroups":
        k = i % BURST_EVERY
        if BURST_EVERY // 2 <= k < BURST_EVERY // 2 + BURST:
            k -= BURST_EVERY // 2
            return k == BURST - 1, BURST_SOURCES + i // BURST_EVERY, i * 1000, 1000 + k
        return False, i, i * 1000, 80
    quarter = max(n // 4, 1)
    return i % 2 == 1, 1, ((i // 4 * 7919) % quarter) * 4000, i % 65_536


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["HotKey", "ManyGroups", "Disorder"])
    parser.add_argument("out")
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.lines
    with open(args.out, "w") as out:
        for i in range(n):
            answer, source, micros, port = hit(args.case, i, n)
            time = START + datetime.timedelta(microseconds=micros)
            verb, how = ("Accepted", "publickey") if answer else ("Failed", "password")
            out.write(
                f"{time.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z bastion sshd[4242]: "
                f"{verb} {how} for root from {ipaddress.IPv4Address(source)} port {port} ssh2\n"
            )


if __name__ == "__main__":
    main()
