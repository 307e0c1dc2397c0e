//! The example pipelines of `examples/` run as their READMEs say, on the
//! project's own data (seed 000's is run in `forward.rs`, beside the
//! rsyslog it forwards to).

use std::path::{Path, PathBuf};
use std::process::Command;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// Runs `rampart` in `dir` with `env`; its standard output.
fn rampart(dir: &Path, env: &[(&str, &Path)], args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.current_dir(dir)
        .env_remove("RAMPART_DB")
        .env_remove("RAMPART_CONFIG")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_example_pipeline_checks() {
    let dir = tempfile::tempdir().unwrap();
    let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../feeds/ipsum.txt");
    for name in ["seed000", "seed001", "seed004"] {
        let config = example(name).join("pipeline.yml");
        let text = rampart(
            dir.path(),
            &[("SEED1_FEED", &feed)],
            &[
                "run",
                "--no-db",
                "--check",
                "--config",
                config.to_str().unwrap(),
            ],
        );
        assert!(text.starts_with("sources:"), "{name}: {text}");
    }
}

#[test]
fn seed001_ids_logs_and_the_ipsum_feed_go_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let manifest = dir.path().join("planted.jsonl");
    rampart(
        dir.path(),
        &[],
        &[
            "generate",
            "--kind",
            "ids",
            "--events",
            "5000",
            "--attack-every",
            "1000",
            "--start",
            "2026-03-01T10:00:00Z",
            "--to",
            logs.join("ids.log").to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
        ],
    );
    let planted = std::fs::read_to_string(&manifest).unwrap().lines().count();
    let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../feeds/ipsum.txt");
    let store = dir.path().join("seed001.db");
    let alerts = dir.path().join("alerts.jsonl");
    let config = example("seed001").join("pipeline.yml");
    let env = [
        ("SEED1_FEED", feed.as_path()),
        ("SEED1_LOGS", logs.as_path()),
        ("SEED1_STORE", store.as_path()),
        ("SEED1_ALERTS", alerts.as_path()),
    ];
    rampart(
        dir.path(),
        &env,
        &["run", "--no-db", "-q", "--config", config.to_str().unwrap()],
    );
    let written = std::fs::read_to_string(&alerts).unwrap();
    let ids_alerts = written
        .lines()
        .filter(|l| l.contains("\"rule_id\":\"ids-alert\""))
        .count();
    assert_eq!(ids_alerts, planted);
    let stored = rampart(
        dir.path(),
        &[],
        &[
            "--db",
            store.to_str().unwrap(),
            "alerts",
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(stored.lines().count(), planted);
    // Again: nothing new.
    rampart(
        dir.path(),
        &env,
        &["run", "--no-db", "-q", "--config", config.to_str().unwrap()],
    );
    let again = std::fs::read_to_string(&alerts).unwrap();
    assert_eq!(again, written);
}

#[test]
fn seed004_watch_list_alerts_come_as_one_json_array() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = dir.path().join("stream_buffer.csv");
    std::fs::copy(example("seed004").join("sample_data.csv"), &buffer).unwrap();
    let store = dir.path().join("seed004.db");
    let alerts = dir.path().join("alerts.json");
    let config = example("seed004").join("pipeline.yml");
    let env = [
        ("SEED4_BUFFER", buffer.as_path()),
        ("SEED4_STORE", store.as_path()),
        ("SEED4_ALERTS", alerts.as_path()),
    ];
    // The example follows its buffer; `--once` reads what is there and ends.
    rampart(
        dir.path(),
        &env,
        &[
            "run",
            "--no-db",
            "-q",
            "--once",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let array: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&alerts).unwrap()).unwrap();
    let codes: Vec<String> = array
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["events"][0]["event"]["code"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // Events 1, 3 and 11 are on the watch list; 5 and 13 are not.
    assert_eq!(codes, ["1", "3", "11"]);
}
