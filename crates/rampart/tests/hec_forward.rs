//! Forwarding to Splunk's HTTP Event Collector with indexer
//! acknowledgements, into a real collector that gives them: rampart's own
//! HEC input, in a second `rampart run` writing what it takes to a file.
//! The receiver is killed (-9) mid-stream and started again on the same
//! port; a batch counts as delivered only once its ackId is
//! acknowledged, so nothing is lost, and what comes twice is bounded by
//! the batches in flight.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::free_port;

/// `rampart run` of the pipeline file `config` in `dir`, with the token.
fn rampart_run(dir: &Path, config: &str) -> Command {
    let mut run = Command::new(env!("CARGO_BIN_EXE_rampart"));
    run.current_dir(dir)
        .env_remove("RAMPART_DB")
        .env("TEST_HEC_TOKEN", "f00d-cafe")
        .args(["--db", "unused.db", "run", "--no-db", "--config", config]);
    run
}

/// Starts the receiving pipeline in `dir` on `port`; waits until it runs.
fn receiver(dir: &Path, port: u16) -> Child {
    std::fs::write(
        dir.join("receiver.yml"),
        format!(
            "builtin: false
sources:
  hec:
    type: hec
    listen: 127.0.0.1:{port}
    token_env: TEST_HEC_TOKEN
sinks:
  kept:
    type: file
    path: received.jsonl
    take: events
health_seconds: 0
"
        ),
    )
    .unwrap();
    let mut child = rampart_run(dir, "receiver.yml")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the receiver ended"
        );
        if line.starts_with("running") {
            break;
        }
    }
    // Its later lines are not read; keep the pipe open without blocking it.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    child
}

/// How often each sequence number reached the receiver's file.
fn received(dir: &Path) -> BTreeMap<u64, u32> {
    let text = std::fs::read_to_string(dir.join("received.jsonl")).unwrap_or_default();
    let mut seen = BTreeMap::new();
    for line in text.lines() {
        if let Some(at) = line.find("seq=") {
            let digits: String = line[at + 4..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            *seen.entry(digits.parse::<u64>().unwrap()).or_insert(0) += 1;
        }
    }
    seen
}

#[test]
fn with_acknowledgements_nothing_is_lost_when_the_collector_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = free_port();
    let mut collector = receiver(d, port);
    std::fs::write(
        d.join("sender.yml"),
        format!(
            "builtin: false
sources:
  piped:
    type: stdin
    format: syslog
sinks:
  splunk:
    type: hec
    to: http://127.0.0.1:{port}
    token_env: TEST_HEC_TOKEN
    ack: true
    ack_timeout_seconds: 2
    take: events
    buffer:
      type: disk
      path: buffer
health_seconds: 0
"
        ),
    )
    .unwrap();
    let check = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .current_dir(d)
        .args(["run", "--check", "--config", "sender.yml"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&check.stdout);
    assert!(
        listed.contains("each batch acknowledged within 2 s"),
        "{listed}"
    );
    let mut sender = rampart_run(d, "sender.yml")
        .arg("-q")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let n = 3000u64;
    let mut input = sender.stdin.take().unwrap();
    common::feed_through_a_restart(&mut input, n, |up| {
        if up {
            collector = receiver(d, port);
        } else {
            collector.kill().unwrap();
            collector.wait().unwrap();
        }
    });
    drop(input);
    let out = sender.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    // The sender ended once every batch was acknowledged: the receiver
    // has written them all.
    Command::new("kill")
        .args(["-TERM", &collector.id().to_string()])
        .status()
        .unwrap();
    assert!(collector.wait().unwrap().success());
    let (missing, again) = common::missing_and_again(&received(d), n);
    assert!(
        missing.is_empty(),
        "lost over HEC with acks: {missing:?}\n{said}"
    );
    // The batch in flight when the collector died (512 records at most),
    // posted once more if a busy machine makes an acknowledgement late.
    assert!(again <= 1024, "{again} records came twice");
    eprintln!("HEC with acks through a collector kill: {n} sent, none lost, {again} twice");
}
