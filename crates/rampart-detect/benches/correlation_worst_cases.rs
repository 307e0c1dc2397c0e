//! Correlations in their worst shapes (one group with a million matches in
//! one window, a million groups, times that repeat and go backwards), as
//! sshd lines: counted (the physical floor: reading the bytes), parsed,
//! parsed and matched by the two member rules, then parsed, matched and run
//! through one correlation of each type, in the same run. The bar:
//! each type costs no more than 3× parsing.
//!
//! Run with `cargo bench -p rampart-detect --bench correlation_worst_cases`.
//! `RAMPART_BENCH_MATCHES` sets the lines per case (1,000,000),
//! `RAMPART_BENCH_REPEAT` the runs per stage (3; the fastest is reported),
//! and `RAMPART_BENCH_CASE` runs only the case of that name.

use std::hint::black_box;
use std::time::Instant;

use rampart_detect::{load_text, CompileOptions, Limits, Placements, RuleSet};
use rampart_parse::{parse_bytes, FileContext, ParseOptions};

#[path = "../tests/worst/mod.rs"]
mod worst;
use worst::{rules, Case, CORRELATIONS};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Text parsed at a time, cut at a line end.
const CHUNK: usize = 4 << 20;

/// Events per batch, as the engine hands them to the correlations.
const BATCH: usize = 512;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The bytes cut into chunks that end at line ends.
fn chunks(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let cut = match rest.get(CHUNK..).and_then(|r| memchr(b'\n', r)) {
            Some(at) => CHUNK + at + 1,
            None => rest.len(),
        };
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

fn memchr(byte: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|b| *b == byte)
}

/// What a run does past parsing.
#[derive(Clone, Copy)]
enum Stage<'r> {
    Parse,
    Match(&'r RuleSet),
    Correlate(&'r str),
}

/// Parses every chunk, then does `stage` to the events. Returns the events
/// and alerts.
fn run(chunks: &[&[u8]], stage: Stage<'_>) -> (u64, usize) {
    let set = match stage {
        Stage::Correlate(id) => Some(RuleSet::build(
            load_text(&rules(|c| c == id), "worst.yml".into()),
            &CompileOptions::default(),
        )),
        _ => None,
    };
    let mut set = set;
    let mut correlator = set.as_mut().map(|s| s.correlator(Limits::default()));
    let (mut events, mut alerts) = (0u64, 0usize);
    for chunk in chunks {
        let ctx = FileContext::new("worst.log", ParseOptions::default());
        let out = parse_bytes(chunk, ctx, None);
        events += out.events.len() as u64;
        match (stage, &set, correlator.as_mut()) {
            (Stage::Match(rules), _, _) => {
                for event in &out.events {
                    alerts += rules.matches(event).len();
                }
            }
            (Stage::Correlate(_), Some(rules), Some(c)) => {
                // As the engine does: matches placed in batches, then taken
                // by the correlations, here all on one thread.
                let roles = c.roles();
                for batch in out.events.chunks(BATCH) {
                    let mut placed = Placements::default();
                    for (at, event) in batch.iter().enumerate() {
                        for hit in rules.matches(event) {
                            roles.place(hit.index, at, event, &mut placed);
                        }
                    }
                    alerts += c.observe_batch(batch, &placed, None).len();
                }
            }
            _ => {}
        }
        black_box(&out);
    }
    if let Some(c) = correlator.as_mut() {
        alerts += c.finish().len();
    }
    (events, alerts)
}

fn fastest(repeat: u64, mut f: impl FnMut()) -> f64 {
    (0..repeat.max(1))
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let n = env("RAMPART_BENCH_MATCHES", 1_000_000);
    let repeat = env("RAMPART_BENCH_REPEAT", 3);
    let members = RuleSet::build(
        load_text(&rules(|_| false), "worst.yml".into()),
        &CompileOptions::default(),
    );
    let start: jiff::Timestamp = "2025-03-14T11:00:00Z".parse().unwrap_or_default();
    println!("{n} sshd lines per case, fastest of {repeat}; ÷ parse is the time over parsing's");
    let only = std::env::var("RAMPART_BENCH_CASE").ok();
    for case in Case::ALL {
        if only.as_ref().is_some_and(|o| *o != format!("{case:?}")) {
            continue;
        }
        let mut text = String::new();
        for i in 0..n {
            case.hit(i, n).line(start, &mut text);
        }
        let bytes = text.into_bytes();
        let parts = chunks(&bytes);
        let rate = |s: f64| format!("{:.2} M lines/s", n as f64 / s / 1e6);
        let lines_s = fastest(repeat, || {
            black_box(bytes.iter().filter(|b| **b == b'\n').count());
        });
        let parse_s = fastest(repeat, || {
            let (events, _) = run(&parts, Stage::Parse);
            assert_eq!(events, n, "every line is an event");
        });
        println!("\n{case:?}: {:.1} MB", bytes.len() as f64 / 1e6);
        println!(
            "  {:<22} {:>16} {:>8}",
            "count lines",
            rate(lines_s),
            format!("{:.2}×", lines_s / parse_s)
        );
        println!("  {:<22} {:>16} {:>8}", "parse", rate(parse_s), "1.00×");
        let match_s = fastest(repeat, || {
            black_box(run(&parts, Stage::Match(&members)));
        });
        println!(
            "  {:<22} {:>16} {:>8}",
            "+ match the members",
            rate(match_s),
            format!("{:.2}×", match_s / parse_s)
        );
        for (id, _, _) in CORRELATIONS {
            let mut alerts = 0;
            let secs = fastest(repeat, || {
                alerts = run(&parts, Stage::Correlate(id)).1;
            });
            println!(
                "  {:<22} {:>16} {:>8}  {alerts} alerts",
                format!("+ {id}"),
                rate(secs),
                format!("{:.2}×", secs / parse_s)
            );
        }
    }
}
