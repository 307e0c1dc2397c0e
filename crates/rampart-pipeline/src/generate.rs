//! `rampart generate`: realistic log streams with attacks planted at
//! known times, for benchmarks, demos and tests that check what rampart
//! finds. The background is made not to look like an attack (each
//! address fails a login or hits a closed port rarely); the planted
//! attacks are the ones the built-in pack knows (SSH brute force, port
//! scan) and the third-party detections seed 001's generator writes (IDS
//! lines of high and critical severity, antivirus "Malware Detected").
//! Every planted attack is listed in a manifest (JSON lines) with its
//! source address and times. The same seed gives the same stream.

use std::io::{self, Write};

use jiff::{SignedDuration, Timestamp};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// sshd lines (syslog).
    Auth,
    /// UFW firewall lines (syslog).
    Ufw,
    /// sshd and UFW lines interleaved (what a syslog listener hears).
    Syslog,
    /// Seed 001's IDS lines.
    Ids,
    /// Seed 001's antivirus records (several lines each).
    Endpoint,
}

impl Kind {
    /// The kind of `name`.
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "auth" => Kind::Auth,
            "ufw" => Kind::Ufw,
            "syslog" => Kind::Syslog,
            "ids" => Kind::Ids,
            "endpoint" => Kind::Endpoint,
            _ => return None,
        })
    }
}

/// How the events are spread in time.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Events a second.
    pub rate: f64,
    /// A wave's period: the rate swings between a fifth and 1.8 times its
    /// mean over it (none: steady).
    pub wave: Option<f64>,
}

impl Pace {
    /// Seconds from the start at which event `n` happens.
    fn at(&self, n: u64) -> f64 {
        let steady = n as f64 / self.rate.max(1e-9);
        match self.wave {
            // The rate is r(1 + 0.8 sin(2πt/P)); event times are where its
            // integral reaches n, found near the steady time by a few
            // Newton steps.
            Some(p) if p > 0.0 => {
                let w = 2.0 * std::f64::consts::PI / p;
                let mut t = steady;
                for _ in 0..8 {
                    let count = self.rate * (t + 0.8 / w * (1.0 - (w * t).cos()));
                    let rate_now = self.rate * (1.0 + 0.8 * (w * t).sin());
                    t -= (count - n as f64) / rate_now.max(self.rate * 0.2);
                }
                t.max(0.0)
            }
            _ => steady,
        }
    }
}

/// A planted attack, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Planted {
    /// What it is: `ssh-brute-force`, `port-scan`, `ids-alert`,
    /// `malware-detected`.
    pub attack: &'static str,
    /// The attacker's address (none for antivirus records).
    pub source_ip: Option<String>,
    /// Its first event's time.
    pub first: String,
    /// Its last event's time.
    pub last: String,
    /// Its events.
    pub events: u32,
}

/// A small, fast, seeded random source (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A public-looking address (never in the attackers' range).
    fn address(&mut self) -> String {
        format!(
            "{}.{}.{}.{}",
            11 + self.below(180),
            self.below(256),
            self.below(256),
            1 + self.below(254)
        )
    }
}

/// What to write and how.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What to write.
    pub kind: Kind,
    /// Events to write (records, for antivirus logs).
    pub events: u64,
    /// How they are spread in time.
    pub pace: Pace,
    /// When the first event happens.
    pub start: Timestamp,
    /// An attack is planted every this many events (0: none).
    pub attack_every: u64,
    /// The random source's seed: the same seed, the same stream.
    pub seed: u64,
}

/// Writes the stream `plan` describes to `out`, one event (its lines) at
/// a time through `emit`, which is told each event's time offset so it
/// can pace itself; gives the planted attacks.
pub fn generate(
    plan: &Plan,
    mut emit: impl FnMut(f64, &[u8]) -> io::Result<()>,
) -> io::Result<Vec<Planted>> {
    let mut rng = Rng(plan.seed.max(1));
    let mut planted = Vec::new();
    let mut line = Vec::with_capacity(512);
    let mut n = 0u64;
    let mut attacks = 0u64;
    // Attackers come from 198.18.0.0/15 (a benchmarking range), so the
    // background never shares their addresses.
    while n < plan.events {
        let offset = plan.pace.at(n);
        let time = at(plan.start, offset);
        if plan.attack_every > 0 && n > 0 && n.is_multiple_of(plan.attack_every) {
            attacks += 1;
            let attacker = format!("198.18.{}.{}", attacks / 250 % 250, 1 + attacks % 250);
            let kind = match plan.kind {
                Kind::Syslog if attacks.is_multiple_of(2) => Kind::Ufw,
                Kind::Syslog => Kind::Auth,
                other => other,
            };
            let (attack, events) = match kind {
                Kind::Auth | Kind::Syslog => ("ssh-brute-force", 8u32),
                Kind::Ufw => ("port-scan", 30),
                Kind::Ids => ("ids-alert", 1),
                Kind::Endpoint => ("malware-detected", 1),
            };
            for k in 0..events {
                // Two seconds apart (a scan's probes a half apart).
                let step = if kind == Kind::Ufw { 0.5 } else { 2.0 };
                let t = at(time, step * f64::from(k));
                line.clear();
                attack_line(&mut line, kind, &mut rng, (&attacker, k), t)?;
                emit(offset, &line)?;
            }
            let last = at(
                time,
                if kind == Kind::Ufw { 0.5 } else { 2.0 } * f64::from(events - 1),
            );
            planted.push(Planted {
                attack,
                source_ip: (kind != Kind::Endpoint).then(|| attacker.clone()),
                first: time.to_string(),
                last: last.to_string(),
                events,
            });
            n += u64::from(events);
            continue;
        }
        let kind = match plan.kind {
            Kind::Syslog if rng.below(2) == 0 => Kind::Ufw,
            Kind::Syslog => Kind::Auth,
            other => other,
        };
        line.clear();
        background_line(&mut line, kind, &mut rng, time)?;
        emit(offset, &line)?;
        n += 1;
    }
    Ok(planted)
}

/// Writes the stream to `to`: a file as fast as it goes (the times in the
/// lines carry the pace), a listener in real time at the plan's pace.
pub fn generate_to(
    plan: &Plan,
    to: &crate::replay::Target,
    framing: crate::replay::StreamFraming,
) -> Result<(u64, Vec<Planted>), String> {
    use crate::replay::{Target, Writer};
    let live = !matches!(to, Target::File(_));
    let mut out = Writer::open(to, framing).map_err(|e| format!("{to:?}: {e}"))?;
    let started = std::time::Instant::now();
    let mut lines = 0u64;
    let planted = generate(plan, |offset, text| {
        if live {
            let due = std::time::Duration::from_secs_f64(offset);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                out.flush()?;
                std::thread::sleep(wait);
            }
        }
        for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            out.line(line)?;
            lines += 1;
        }
        Ok(())
    })
    .map_err(|e| format!("{to:?}: {e}"))?;
    out.flush().map_err(|e| format!("{to:?}: {e}"))?;
    Ok((lines, planted))
}

fn at(start: Timestamp, seconds: f64) -> Timestamp {
    start
        .checked_add(SignedDuration::from_secs_f64(seconds))
        .unwrap_or(start)
}

fn syslog_time(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%b %e %H:%M:%S")
        .to_string()
}

fn seed1_time(t: Timestamp) -> String {
    let z = t.to_zoned(jiff::tz::TimeZone::UTC);
    format!(
        "{},{:03}",
        z.strftime("%Y-%m-%d %H:%M:%S"),
        z.subsec_nanosecond() / 1_000_000
    )
}

const USERS: &[&str] = &["root", "admin", "ubuntu", "deploy", "oracle", "test", "git"];

fn ufw(out: &mut Vec<u8>, rng: &mut Rng, t: Timestamp, src: &str, dport: u64) -> io::Result<()> {
    writeln!(
        out,
        "{} gw01 kernel: [{}.{:06}] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC={src} DST=10.0.0.{} LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID={} DF PROTO=TCP SPT={} DPT={dport} WINDOW=64240 RES=0x00 SYN URGP=0",
        syslog_time(t),
        10_000 + rng.below(90_000),
        rng.below(1_000_000),
        1 + rng.below(20),
        rng.below(65_536),
        1024 + rng.below(60_000)
    )
}

fn background_line(out: &mut Vec<u8>, kind: Kind, rng: &mut Rng, t: Timestamp) -> io::Result<()> {
    match kind {
        Kind::Auth | Kind::Syslog => {
            let ip = rng.address();
            let pid = 1000 + rng.below(30_000);
            let port = 1024 + rng.below(60_000);
            let ts = syslog_time(t);
            match rng.below(4) {
                0 => writeln!(
                    out,
                    "{ts} web01 sshd[{pid}]: Failed password for {} from {ip} port {port} ssh2",
                    rng.pick(USERS)
                ),
                1 => writeln!(
                    out,
                    "{ts} web01 sshd[{pid}]: Invalid user {} from {ip} port {port}",
                    rng.pick(&["support", "guest", "pi", "ftpuser"])
                ),
                2 => writeln!(
                    out,
                    "{ts} web01 sshd[{pid}]: Connection closed by {ip} port {port} [preauth]"
                ),
                _ => writeln!(
                    out,
                    "{ts} web01 sshd[{pid}]: Disconnected from {ip} port {port}"
                ),
            }
        }
        Kind::Ufw => {
            let src = rng.address();
            let port = [22, 23, 80, 443, 445, 3389, 8080][rng.below(7) as usize];
            ufw(out, rng, t, &src, port)
        }
        Kind::Ids => {
            let sev = rng.pick(&["low", "medium"]);
            let proto = rng.pick(&["TCP", "UDP", "ICMP", "HTTP"]);
            let what = rng.pick(&["Normal traffic", "Malformed packet", "Policy violation"]);
            writeln!(
                out,
                "{} - ids_logger_1 - {sev}_severity - {proto} - {}:{} --> {}:{} - {} - {what}",
                seed1_time(t),
                rng.address(),
                1024 + rng.below(60_000),
                rng.address(),
                [22, 53, 80, 443][rng.below(4) as usize],
                rng.pick(&["SYN", "ACK", "FIN", "PSH"])
            )
        }
        Kind::Endpoint => {
            let (kind, detail) = match rng.below(3) {
                0 => ("Scan Started", "Scan Type: Quick Scan".to_string()),
                1 => (
                    "Scan Completed",
                    "Scan Type: Quick Scan\nMalware Found: 0".to_string(),
                ),
                _ => (
                    "Update Applied",
                    format!(
                        "Update Type: Definition Update\nUpdate Version: 1.{}.0",
                        rng.below(400)
                    ),
                ),
            };
            writeln!(
                out,
                "Date: {} \nEvent Type: {kind}\n{detail}\nUser: {}\nComputer: WS{:04}",
                seed1_time(t),
                rng.pick(&["alice", "bob", "carol", "dave"]),
                rng.below(10_000)
            )
        }
    }
}

fn attack_line(
    out: &mut Vec<u8>,
    kind: Kind,
    rng: &mut Rng,
    (attacker, k): (&str, u32),
    t: Timestamp,
) -> io::Result<()> {
    match kind {
        Kind::Auth | Kind::Syslog => writeln!(
            out,
            "{} web01 sshd[{}]: Failed password for {} from {attacker} port {} ssh2",
            syslog_time(t),
            2000 + k,
            rng.pick(USERS),
            40_000 + rng.below(20_000)
        ),
        // A different port each probe.
        Kind::Ufw => ufw(out, rng, t, attacker, 1 + u64::from(k) * 37),
        Kind::Ids => writeln!(
            out,
            "{} - ids_logger_1 - {}_severity - TCP - {attacker}:{} --> 10.0.0.{}:445 - SYN - {}",
            seed1_time(t),
            rng.pick(&["high", "critical"]),
            1024 + rng.below(60_000),
            1 + rng.below(20),
            rng.pick(&["Worm Propagation Attempt", "SQL Injection", "Brute Force Login"])
        ),
        Kind::Endpoint => writeln!(
            out,
            "Date: {} \nEvent Type: Malware Detected\nFile Name: invoice.exe\nFile Path: C:\\Users\\eve\\Downloads\\invoice.exe\nFile Hash: {:016x}\nThreat Name: ['Trojan.Win32.Planted']\nAction Taken: Quarantine\nUser: eve\nComputer: WS{:04}",
            seed1_time(t),
            rng.next(),
            rng.below(10_000)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(kind: Kind) -> Plan {
        Plan {
            kind,
            events: 2_000,
            pace: Pace {
                rate: 100.0,
                wave: None,
            },
            start: "2026-03-01T10:00:00Z".parse().unwrap(),
            attack_every: 500,
            seed: 7,
        }
    }

    fn text(plan: &Plan) -> (String, Vec<Planted>) {
        let mut out = Vec::new();
        let planted = generate(plan, |_, l| {
            out.extend_from_slice(l);
            Ok(())
        })
        .unwrap();
        (String::from_utf8(out).unwrap(), planted)
    }

    #[test]
    fn the_same_seed_gives_the_same_stream_and_attacks_are_listed() {
        let (a, planted) = text(&plan(Kind::Syslog));
        let (b, _) = text(&plan(Kind::Syslog));
        assert_eq!(a, b);
        // Attacks every 500 events in 2,000: three, alternating kinds.
        let kinds: Vec<&str> = planted.iter().map(|p| p.attack).collect();
        assert_eq!(kinds, ["ssh-brute-force", "port-scan", "ssh-brute-force"]);
        for p in &planted {
            let ip = p.source_ip.as_deref().unwrap();
            let lines = a
                .lines()
                .filter(|l| l.contains(&format!("{ip} ")) || l.contains(&format!("SRC={ip} ")))
                .count();
            assert_eq!(lines as u32, p.events, "{ip}");
        }
    }

    #[test]
    fn a_wave_spreads_the_same_events_over_the_same_time_unevenly() {
        let steady = Pace {
            rate: 100.0,
            wave: None,
        };
        let wave = Pace {
            rate: 100.0,
            wave: Some(10.0),
        };
        // Over a whole period the wave has sent what the steady rate has.
        assert!(
            (wave.at(1000) - steady.at(1000)).abs() < 0.05,
            "{}",
            wave.at(1000)
        );
        // Early in the period (rate rising above its mean) events come
        // sooner than steady ones.
        assert!(wave.at(200) < steady.at(200));
        let mut last = 0.0;
        for n in 0..3000 {
            let t = wave.at(n);
            assert!(t >= last, "time went back at {n}");
            last = t;
        }
    }
}
