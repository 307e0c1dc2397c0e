"""Writes N lines of sshd, Apache and UFW logs (a third each, three files)
with many addresses, users and paths, spread over DAYS days of 2025 from
FIRST (day 0 is 1 March; 30 days from day 0 unless given), so that a store
built from them has indexes and a search index of realistic spread.
Deterministic for a seed. Usage: gen-mixed.py DIR N [SEED [FIRST DAYS]]"""
import random
import sys

folder, total = sys.argv[1], int(sys.argv[2])
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
first, days = (int(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) > 5 else (0, 30)
per_file = total // 3
MONTHS = ["Mar", "Apr"]
users = ["root", "admin", "ubuntu", "oracle", "test", "deploy", "git"] + [f"user{i}" for i in range(2000)]
paths = ["/", "/index.html", "/login", "/admin", "/wp-login.php", "/.env", "/api/v1/items"] + [f"/p/{i}" for i in range(5000)]
agents = ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.4.0", "python-requests/2.31"]
scanners = [(f"198.51.100.{i}", a) for i in range(50) for a in ["gobuster/3.6", "sqlmap/1.7"]]


def ip():
    return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def clock(i):
    s = i * days * 86400 // per_file
    day, rest = divmod(s, 86400)
    day += first
    return day, rest // 3600, rest // 60 % 60, rest % 60


with open(f"{folder}/auth.log", "w") as out:
    for i in range(per_file):
        day, h, m, s = clock(i)
        stamp = f"{MONTHS[day // 31]} {day % 31 + 1:2d} {h:02d}:{m:02d}:{s:02d}"
        if rng.random() < 0.1:
            out.write(f"{stamp} web{rng.randrange(20):02d} sshd[{rng.randrange(1000, 60000)}]: Accepted password for {rng.choice(users)} from {ip()} port {rng.randrange(1024, 65535)} ssh2\n")
        else:
            out.write(f"{stamp} web{rng.randrange(20):02d} sshd[{rng.randrange(1000, 60000)}]: Failed password for {rng.choice(users)} from {ip()} port {rng.randrange(1024, 65535)} ssh2\n")

with open(f"{folder}/access.log", "w") as out:
    for i in range(per_file):
        day, h, m, s = clock(i)
        stamp = f"{day % 31 + 1:02d}/{MONTHS[day // 31]}/2025:{h:02d}:{m:02d}:{s:02d} +0000"
        status = rng.choice([200, 200, 200, 301, 404, 404, 500])
        client, agent = rng.choice(scanners) if rng.random() < 0.02 else (ip(), rng.choice(agents))
        out.write(f'{client} - - [{stamp}] "GET {rng.choice(paths)} HTTP/1.1" {status} {rng.randrange(100, 90000)} "-" "{agent}"\n')

with open(f"{folder}/ufw.log", "w") as out:
    for i in range(total - 2 * per_file):
        day, h, m, s = clock(i)
        stamp = f"{MONTHS[day // 31]} {day % 31 + 1:2d} {h:02d}:{m:02d}:{s:02d}"
        out.write(f"{stamp} fw{rng.randrange(4):02d} kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC={ip()} DST=10.0.{rng.randrange(4)}.{rng.randrange(1, 255)} LEN=44 TOS=0x00 PREC=0x00 TTL=52 ID={rng.randrange(65535)} PROTO=TCP SPT={rng.randrange(1024, 65535)} DPT={rng.randrange(1, 65535)} WINDOW=1024 RES=0x00 SYN URGP=0\n")
