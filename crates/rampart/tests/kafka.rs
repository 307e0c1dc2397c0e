//! Kafka between rampart processes, against a real Kafka-protocol broker
//! (Tansu, built by scripts/install-servers.sh and started here by
//! scripts/tansu.sh with a folder and port of its own): `rampart replay`
//! and a pipeline's sink produce to a topic, and a pipeline reads it as a
//! member of a consumer group; a reader killed mid-stream loses nothing,
//! the next member of its group reading what it had not committed.
//!
//! Without the broker the tests say they were skipped, unless
//! `RAMPART_REQUIRE_SERVERS` is set (CI), when they fail.

mod common;
mod fed;
mod servers;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use servers::{available, Server};

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/tansu.sh")
}

/// The broker, started in `dir`, with a topic of three partitions.
fn broker(dir: &Path, topic: &str) -> Option<Server> {
    let found = Command::new("bash")
        .arg(script())
        .arg("check")
        .status()
        .is_ok_and(|s| s.success());
    if !available("the Kafka-protocol broker (Tansu)", found) {
        return None;
    }
    let server = Server::start("tansu.sh", dir);
    let made = Command::new("bash")
        .arg(script())
        .args(["topic", &server.port.to_string(), topic, "3"])
        .status()
        .unwrap();
    assert!(made.success(), "the topic {topic} was not made");
    Some(server)
}

/// The client ports of the events written to `path`, with repeats.
fn ports(path: &Path) -> Vec<u64> {
    common::whole_lines(path)
        .iter()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            e["source"]["port"].as_u64().unwrap()
        })
        .collect()
}

/// Waits up to `secs` seconds for `path` to hold every port below `n`.
fn all_of(path: &Path, n: u64, secs: u64) -> Vec<u64> {
    let started = Instant::now();
    loop {
        let got = ports(path);
        let distinct: std::collections::BTreeSet<u64> = got.iter().copied().collect();
        if distinct.len() as u64 >= n || started.elapsed() > Duration::from_secs(secs) {
            return got;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_topic_fed_by_replay_and_a_sink_is_read_by_a_group_member_killed_midway_none_lost() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = broker(dir.path(), "logs") else {
        return;
    };
    let brokers = format!("127.0.0.1:{}", server.port);
    // Half the lines by `rampart replay`, half through a pipeline's sink.
    let n = 20_000;
    let all = fed::closed_connections(0..n);
    let (first, second) =
        all.split_at(all.match_indices('\n').nth(n as usize / 2 - 1).unwrap().0 + 1);
    std::fs::write(dir.path().join("first.log"), first).unwrap();
    let replayed = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "replay",
            "first.log",
            "--to",
            &format!("kafka://{brokers}/logs"),
            "-q",
        ])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(replayed.success());
    let publish = dir.path().join("publish.yml");
    std::fs::write(
        &publish,
        format!(
            "sources:\n  piped:\n    type: stdin\nsinks:\n  bus:\n    type: kafka\n    brokers: {brokers}\n    topic: logs\n    take: events\n"
        ),
    )
    .unwrap();
    fed::run_fed(&publish, second.as_bytes());
    // A member of group `siem` killed once it has written part of the
    // topic; restarted under its lasting name (static membership), it
    // takes its partitions back and reads what it had not committed.
    let read = dir.path().join("read.yml");
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &read,
        format!(
            "sources:\n  bus:\n    type: kafka\n    brokers: {brokers}\n    topics: [logs]\n    group: siem\n    instance: reader-1\nsinks:\n  events:\n    type: file\n    path: {}\n    take: events\n",
            events.display()
        ),
    )
    .unwrap();
    let mut member = fed::start(&read);
    let started = Instant::now();
    while ports(&events).len() < 2_000 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    member.kill().unwrap();
    member.wait().unwrap();
    let before = ports(&events).len();
    assert!(before > 0, "the first member read nothing");
    let next = fed::start(&read);
    let got = all_of(&events, n, 60);
    fed::stop(next);
    let seen: std::collections::BTreeSet<u64> = got.iter().copied().collect();
    let missing: Vec<u64> = (0..n).filter(|p| !seen.contains(p)).take(10).collect();
    assert!(missing.is_empty(), "lost after a kill: {missing:?} ...");
    let twice = got.len() - seen.len();
    eprintln!("Kafka member killed after writing {before} events: none lost, {twice} read twice");
    // Twice only what the killed member wrote and had not committed.
    assert!(
        twice <= before,
        "{twice} twice, {before} written before the kill"
    );
}
