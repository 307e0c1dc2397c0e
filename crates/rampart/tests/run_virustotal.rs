//! `rampart run` with VirusTotal asked while events flow (seed 000's
//! enrichment), against a local server that answers as the v3 API does:
//! events wait for answers that can come, pass on flagged when the key's
//! per-minute limit holds the lookup back, private addresses are never
//! sent, and the answers kept in the store serve the next run without a
//! request.

mod fed;
mod vt_server;

use std::path::Path;
use std::time::{Duration, Instant};

use fed::run_fed;

/// Lines from a malicious, a clean and a private address.
const LINES: &str = "\
Mar 14 11:00:01 bastion sshd[4242]: Failed password for root from 185.220.101.45 port 50100 ssh2
Mar 14 11:00:02 bastion sshd[4242]: Failed password for root from 8.8.8.8 port 50101 ssh2
Mar 14 11:00:03 bastion sshd[4242]: Failed password for root from 10.1.2.3 port 50102 ssh2
";

/// A stdin pipeline asking the server at `url`, `per_minute` requests a
/// minute, its events written to `events.jsonl`; the key in a `.env`.
fn pipeline(dir: &Path, url: &str, per_minute: u32) -> std::path::PathBuf {
    std::fs::write(dir.join(".env"), "VT_TEST_KEY=testkey\n").unwrap();
    let config = dir.join("pipeline.yml");
    std::fs::write(
        &config,
        format!(
            "sources:\n  in: {{type: stdin}}\n\
             sinks:\n  out: {{type: file, path: events.jsonl, take: events}}\n  db: {{type: store, path: vt.db}}\n\
             virustotal:\n  key_env: VT_TEST_KEY\n  url: {url}\n  per_minute: {per_minute}\n  wait_ms: 20000\n\
             health_seconds: 0\n"
        ),
    )
    .unwrap();
    config
}

/// Each event's source address with its VirusTotal verdict, or
/// `pending`, or nothing.
fn verdicts(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let mut out: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            let ip = e["source"]["ip"].as_str().unwrap_or_default().to_string();
            let verdict = e["threat"]["enrichments"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|x| x["virustotal"]["verdict"].as_str())
                .map(str::to_string)
                .or_else(|| {
                    e["rampart"]["pending"]
                        .as_str()
                        .map(|p| format!("pending {p}"))
                })
                .unwrap_or_default();
            (ip, verdict)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn events_wait_for_answers_that_can_come_and_the_next_run_reuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let (url, asked) = vt_server::serve();
    let config = pipeline(dir.path(), &url, 60);
    run_fed(&config, LINES.as_bytes());
    assert_eq!(
        verdicts(dir.path()),
        vec![
            ("10.1.2.3".into(), String::new()),
            ("185.220.101.45".into(), "MALICIOUS".into()),
            ("8.8.8.8".into(), "CLEAN".into()),
        ]
    );
    let mut paths = asked.lock().unwrap().clone();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/api/v3/ip_addresses/185.220.101.45",
            "/api/v3/ip_addresses/8.8.8.8"
        ]
    );
    // The answers were kept: a second run asks nothing and enriches alike.
    std::fs::remove_file(dir.path().join("events.jsonl")).unwrap();
    run_fed(&config, LINES.as_bytes());
    assert_eq!(asked.lock().unwrap().len(), 2);
    assert_eq!(verdicts(dir.path())[1].1, "MALICIOUS");
}

#[test]
fn a_lookup_the_limit_holds_back_leaves_its_event_flagged_and_does_not_hold_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (url, asked) = vt_server::serve();
    // One request a minute: the second address must wait a minute for
    // its turn, longer than any batch may wait for it.
    let config = pipeline(dir.path(), &url, 1);
    let started = Instant::now();
    run_fed(&config, LINES.as_bytes());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the run took {:?}",
        started.elapsed()
    );
    // Addresses are asked in their order: 8.8.8.8 before 185.220.101.45.
    assert_eq!(
        verdicts(dir.path()),
        vec![
            ("10.1.2.3".into(), String::new()),
            ("185.220.101.45".into(), "pending virustotal".into()),
            ("8.8.8.8".into(), "CLEAN".into()),
        ]
    );
    assert_eq!(*asked.lock().unwrap(), ["/api/v3/ip_addresses/8.8.8.8"]);
}
