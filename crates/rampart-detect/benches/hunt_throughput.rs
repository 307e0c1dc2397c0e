//! Detection throughput on one core: the SigmaHQ Windows rules over the EVTX
//! attack samples in ../shared/corpora, replicated to at least 100,000
//! records, next to decoding alone and reading the bytes alone in the same
//! run. Also prints how long compiling the rules takes and the peak memory.
//!
//! Run with `cargo bench -p rampart-detect`. Set `RAMPART_BENCH_RECORDS` to
//! change the replicated size and `RAMPART_BENCH_REPEAT` the runs per stage
//! (3; the fastest is reported). Skipped when the corpora are absent.

use std::hint::black_box;
use std::time::Instant;

use rampart_detect::{load_path, CompileOptions, RuleSet};

#[path = "../tests/common/mod.rs"]
mod common;
use common::{corpora, decode_evtx, files, is_evtx};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let Some(corpora) = corpora("") else {
        return;
    };
    let target: u64 = std::env::var("RAMPART_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let files = files(&corpora.join("evtx-attack-samples"), is_evtx);

    let started = Instant::now();
    let all = RuleSet::build(
        load_path(&corpora.join("sigma/rules")),
        &CompileOptions::default(),
    );
    let all_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let rules = RuleSet::build(
        load_path(&corpora.join("sigma/rules/windows")),
        &CompileOptions::default(),
    );
    let windows_secs = started.elapsed().as_secs_f64();
    println!(
        "compile: {} rules (all folders) in {:.3} s; {} Windows rules in {:.3} s",
        all.rules().len(),
        all_secs,
        rules.rules().len(),
        windows_secs
    );
    drop(all);

    let once: u64 = files
        .iter()
        .map(|f| decode_evtx(f).unwrap_or_default().events.len() as u64)
        .sum();
    let rounds = target.div_ceil(once.max(1));
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum::<u64>()
        * rounds;

    // Each stage is timed `repeat` times, interleaved with the others, and
    // the fastest time kept: this machine's speed drifts from one second to
    // the next, and the fastest run is the one least slowed by it.
    let repeat: usize = std::env::var("RAMPART_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let (mut read_runs, mut decode_runs, mut hunt_runs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut events, mut hunted, mut hits) = (0u64, 0u64, 0u64);
    let (mut candidates, mut evaluated) = (0u64, 0u64);
    for _ in 0..repeat {
        // Baseline: reading the same bytes.
        let started = Instant::now();
        for _ in 0..rounds {
            for f in &files {
                black_box(std::fs::read(f).map(|b| b.len()).unwrap_or(0));
            }
        }
        read_runs.push(started.elapsed().as_secs_f64());

        // Decoding alone.
        let started = Instant::now();
        events = 0;
        for _ in 0..rounds {
            for f in &files {
                events += black_box(decode_evtx(f).unwrap_or_default()).events.len() as u64;
            }
        }
        decode_runs.push(started.elapsed().as_secs_f64());

        // Decoding and every Windows rule.
        let started = Instant::now();
        (hunted, hits) = (0, 0);
        for _ in 0..rounds {
            for f in &files {
                let out = decode_evtx(f).unwrap_or_default();
                for e in &out.events {
                    hunted += 1;
                    hits += rules.matches(e).len() as u64;
                }
            }
        }
        hunt_runs.push(started.elapsed().as_secs_f64());
    }
    let fastest = |runs: &[f64]| runs.iter().copied().fold(f64::INFINITY, f64::min);
    let slowest = |runs: &[f64]| runs.iter().copied().fold(0.0, f64::max);
    let (read_secs, decode_secs, hunt_secs) = (
        fastest(&read_runs),
        fastest(&decode_runs),
        fastest(&hunt_runs),
    );
    assert_eq!(events, hunted);
    for f in &files {
        // Counted outside the timed loops: one more view per event.
        for e in &decode_evtx(f).unwrap_or_default().events {
            candidates += rules.candidates(e) as u64;
            evaluated += rules.evaluated(e) as u64;
        }
    }

    let mb = bytes as f64 / 1e6;
    println!(
        "fastest of {repeat} runs per stage; slowest runs: read {:.3} s, decode {:.3} s, decode + rules {:.3} s",
        slowest(&read_runs),
        slowest(&decode_runs),
        slowest(&hunt_runs)
    );
    println!(
        "corpus: {} EVTX files x {rounds} rounds = {events} records, {mb:.1} MB",
        files.len()
    );
    println!(
        "{:<28} {:>10} {:>12} {:>10}",
        "stage", "seconds", "events/s", "MB/s"
    );
    for (name, secs) in [
        ("read bytes", read_secs),
        ("decode EVTX", decode_secs),
        ("decode + Sigma rules", hunt_secs),
    ] {
        println!(
            "{name:<28} {secs:>10.3} {:>12.0} {:>10.1}",
            events as f64 / secs,
            mb / secs
        );
    }
    println!(
        "hunt/decode time: {:.2}x; rules per event: {:.1} routed, {:.1} evaluated after pruning, of {}; matches: {hits}; peak memory: {:.0} MB",
        hunt_secs / decode_secs,
        candidates as f64 * rounds as f64 / hunted.max(1) as f64,
        evaluated as f64 * rounds as f64 / hunted.max(1) as f64,
        rules.rules().len(),
        peak_rss_mb()
    );
}
