//! Worst cases for correlations, shared by the tests and the benchmark: a
//! correlation of every type over the same two rules, and inputs that each
//! push one part of the correlation state to its limit.

#![allow(dead_code)]

/// Two rules: a probe (a failed SSH login) and an answer to it (an
/// accepted one).
pub const MEMBERS: &str = r#"
title: Probe
id: probe
logsource: {product: linux, service: sshd}
detection: {selection: {event.action: ssh-login, event.outcome: failure}, condition: selection}
---
title: Answer
id: answer
logsource: {product: linux, service: sshd}
detection: {selection: {event.action: ssh-login, event.outcome: success}, condition: selection}
"#;

/// A correlation of every type over the members, grouped by source address
/// (the value types measure the client's port): its id, whether the
/// answers feed it too, and its rule.
pub const CORRELATIONS: [(&str, bool, &str); 8] = [
    ("count", false, "title: Many probes\nid: count\ncorrelation: {type: event_count, rules: [probe], group-by: [source.ip], timespan: 1h, condition: {gte: 5}}"),
    ("distinct", false, "title: Many ports\nid: distinct\ncorrelation: {type: value_count, rules: [probe], group-by: [source.ip], timespan: 1h, condition: {field: source.port, gte: 10}}"),
    ("both", true, "title: Probe and answer\nid: both\ncorrelation: {type: temporal, rules: [probe, answer], group-by: [source.ip], timespan: 1h}"),
    ("ordered", true, "title: Probe then answer\nid: ordered\ncorrelation: {type: temporal_ordered, rules: [probe, answer], group-by: [source.ip], timespan: 1h}"),
    ("sum", false, "title: Port sum\nid: sum\ncorrelation: {type: value_sum, rules: [probe], group-by: [source.ip], timespan: 1h, condition: {field: source.port, gte: 1000}}"),
    ("avg", false, "title: Port mean\nid: avg\ncorrelation: {type: value_avg, rules: [probe], group-by: [source.ip], timespan: 1h, condition: {field: source.port, gte: 100}}"),
    ("median", false, "title: Port median\nid: median\ncorrelation: {type: value_median, rules: [probe], group-by: [source.ip], timespan: 1h, condition: {field: source.port, gte: 100}}"),
    ("p90", false, "title: Port 90th percentile\nid: p90\ncorrelation: {type: value_percentile, rules: [probe], group-by: [source.ip], timespan: 1h, condition: {field: source.port, percentile: 90, gte: 100}}"),
];

/// The members and the correlations whose ids `wanted` accepts.
pub fn rules(wanted: impl Fn(&str) -> bool) -> String {
    let mut text = MEMBERS.to_owned();
    for (id, _, rule) in CORRELATIONS {
        if wanted(id) {
            text.push_str("---\n");
            text.push_str(rule);
            text.push('\n');
        }
    }
    text
}

/// One generated match.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    /// An answer rather than a probe.
    pub answer: bool,
    /// The source address, as a number.
    pub source: u32,
    /// Microseconds after the start.
    pub micros: i64,
    /// The client's port.
    pub port: u32,
}

impl Hit {
    /// The hit as an sshd line with a high-precision syslog time.
    pub fn line(&self, start: jiff::Timestamp, out: &mut String) {
        use std::fmt::Write;
        let time = start + jiff::SignedDuration::from_micros(self.micros);
        let (verb, how) = if self.answer {
            ("Accepted", "publickey")
        } else {
            ("Failed", "password")
        };
        let _ = writeln!(
            out,
            "{time:.6} bastion sshd[4242]: {verb} {how} for root from {} port {} ssh2",
            std::net::Ipv4Addr::from(self.source),
            self.port
        );
    }
}

/// Where the bursts of `ManyGroups` start, every this many hits.
const BURST_EVERY: u64 = 100_000;
/// A burst: eleven probes to ports 1000-1010, then an answer.
const BURST: u64 = 12;
/// Burst sources are numbered from here, apart from the quiet ones.
pub const BURST_SOURCES: u32 = 0xF000_0000;

/// The worst cases.
#[derive(Debug, Clone, Copy)]
pub enum Case {
    /// One source, every match inside one window (a million in one second),
    /// probes and answers alternating, every port in turn.
    HotKey,
    /// Every match from another source, all inside one window, so nothing
    /// is swept and groups must be evicted; a few sources burst and must
    /// alert, alerts that eviction emits.
    ManyGroups,
    /// One source, times that repeat four times and jump forwards and
    /// backwards across a thousand seconds.
    Disorder,
}

impl Case {
    /// Every case.
    pub const ALL: [Case; 3] = [Case::HotKey, Case::ManyGroups, Case::Disorder];

    /// The hit at position `i` of `n`.
    pub fn hit(self, i: u64, n: u64) -> Hit {
        match self {
            Case::HotKey => Hit {
                answer: i % 2 == 1,
                source: 1,
                micros: i as i64,
                port: (i % 65_536) as u32,
            },
            Case::ManyGroups => {
                let k = i % BURST_EVERY;
                if (BURST_EVERY / 2..BURST_EVERY / 2 + BURST).contains(&k) {
                    let k = k - BURST_EVERY / 2;
                    Hit {
                        answer: k == BURST - 1,
                        source: BURST_SOURCES + (i / BURST_EVERY) as u32,
                        micros: i as i64 * 1000,
                        port: 1000 + k as u32,
                    }
                } else {
                    Hit {
                        answer: false,
                        source: i as u32,
                        micros: i as i64 * 1000,
                        port: 80,
                    }
                }
            }
            Case::Disorder => {
                let quarter = (n / 4).max(1);
                Hit {
                    answer: i % 2 == 1,
                    source: 1,
                    micros: ((i / 4 * 7919) % quarter) as i64 * 4000,
                    port: (i % 65_536) as u32,
                }
            }
        }
    }
}
