#!/usr/bin/env python3
"""Writes UFW lines of a full TCP port scan: one source address probing every
port 1-65535 within each minute (what `nmap -p-` does), for N minutes.

Usage: gen-portscan.py OUT [--minutes N] [--sources K]
With --sources K > 1, K addresses scan at once, their lines interleaved."""
import argparse

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--minutes", type=int, default=1)
p.add_argument("--sources", type=int, default=1)
a = p.parse_args()

LINE = ("Mar 14 {h:02}:{m:02}:{s:02} fw01 kernel: [UFW BLOCK] IN=eth0 OUT= "
        "MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC={src} DST=10.0.0.5 LEN=44 "
        "TOS=0x00 PREC=0x00 TTL=52 ID=54321 PROTO=TCP SPT=40000 DPT={port} WINDOW=1024 "
        "RES=0x00 SYN URGP=0\n")
with open(a.out, "w") as f:
    for minute in range(a.minutes):
        for port in range(1, 65536):
            second = (port - 1) * 60 // 65535
            t = 11 * 3600 + minute * 60 + second
            for k in range(a.sources):
                src = f"192.0.{2 + k // 250}.{1 + k % 250}"
                f.write(LINE.format(h=t // 3600, m=t // 60 % 60, s=t % 60, src=src, port=port))
