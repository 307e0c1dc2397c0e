#!/usr/bin/env python3
"""Endpoint telemetry in seed 003's four CSV layouts, N events in all
(about a quarter per table): a process forest whose children start after
their parents, file, network and registry activity of those processes,
Run-key writes now and then, and a few defects of each kind seed 003 has.
Deterministic for a seed. Usage: gen-telemetry.py DIR N [SEED]"""
import os
import random
import sys
from datetime import datetime, timedelta, timezone

out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 3)
os.makedirs(out, exist_ok=True)
base = datetime(2025, 3, 1, 9, 0, 0, tzinfo=timezone.utc)
per = n // 4
span = 8 * 3600
users = ["admin", "user1", "johndoe", "janedoe", "SYSTEM"]
exes = ["C:/Windows/System32/cmd.exe", "C:/Program Files/winword.exe",
        "C:/Windows/SysWOW64/svchost.exe", "C:/Program Files/chrome.exe",
        "C:/Windows/System32/WindowsPowerShell/v1.0/powershell.exe"]


def t(seconds):
    return (base + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


starts = []
with open(os.path.join(out, "process_events.csv"), "w") as f:
    f.write("process_id,parent_id,start_time,end_time,executable_path,user,command_line\n")
    for i in range(per):
        pid = 1000 + i
        start = i * span // per
        parent = 1000 + rng.randrange(i) if i else 4
        exe = rng.choice(exes)
        end = start + rng.randrange(60, 7200)
        if rng.random() < 0.001:
            end = start - 30
        starts.append(start)
        f.write(f'{pid},{parent},{t(start)},{t(end)},{exe},{rng.choice(users)},"""{exe}"" /c job{i}"\n')


def pid_at():
    i = rng.randrange(per)
    return 1000 + i, starts[i] + rng.randrange(1, 600)


with open(os.path.join(out, "file_events.csv"), "w") as f:
    f.write("process_id,file_path,operation,timestamp,user\n")
    for i in range(per):
        pid, when = pid_at()
        path = f"C:/Users/{rng.choice(users)}/Documents/file{rng.randrange(5000)}.txt"
        if rng.random() < 0.001:
            path = "###CORRUPT###" + path
        f.write(f"{pid},{path},{rng.choice(['read', 'write', 'modify'])},{t(when)},{rng.choice(users)}\n")
with open(os.path.join(out, "network_events.csv"), "w") as f:
    f.write("process_id,src_ip,dst_ip,src_port,dst_port,timestamp,user\n")
    for i in range(per):
        pid, when = pid_at()
        src = f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        dst = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        f.write(f"{pid},{src},{dst},{rng.randrange(1024, 65535)},{rng.choice([80, 443, 8080, 22])},{t(when)},{rng.choice(users)}\n")
with open(os.path.join(out, "registry_events.csv"), "w") as f:
    f.write("process_id,registry_key,operation,timestamp,value_name,value_data,user\n")
    for i in range(n - 3 * per):
        pid, when = pid_at()
        if rng.random() < 0.002:
            key, name, data = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run", "Updater", "C:/Users/Public/u.exe"
        else:
            key, name, data = "HKEY_CURRENT_USER\\SOFTWARE/Microsoft/Office/16.0", "", ""
        f.write(f"{pid},{key},{rng.choice(['create', 'modify', 'delete'])},{t(when)},{name},{data},{rng.choice(users)}\n")
