//! `rampart generate` writes streams whose planted attacks are exactly
//! what `rampart hunt` finds in them: every attack of the manifest is
//! found (by its kind and source address), and the background raises
//! nothing.

use std::path::Path;
use std::process::Command;

fn rampart(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .env_remove("RAMPART_DB")
        .env_remove("RAMPART_CONFIG")
        .args(["--db", "unused.db"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Sorted, to compare as a multiset.
fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (what was planted or found, source address) for each attack.
fn planted(manifest: &Path) -> Vec<(String, String)> {
    let all = lines(&std::fs::read_to_string(manifest).unwrap())
        .iter()
        .map(|p| {
            let attack = match p["attack"].as_str().unwrap() {
                "ids-alert" | "malware-detected" => "third-party",
                other => other,
            };
            (
                attack.to_string(),
                p["source_ip"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect::<Vec<_>>();
    sorted(all)
}

fn found(alerts: &[serde_json::Value]) -> Vec<(String, String)> {
    let all = alerts
        .iter()
        .map(|a| {
            let rule = a["rule_id"].as_str().unwrap();
            let rule = if rule.starts_with("ssh-brute-force") || rule.starts_with("port-scan") {
                rule
            } else {
                "third-party"
            };
            let ip = a["events"][0]["source"]["ip"].as_str().unwrap_or("");
            let ip = if a["events"][0]["event"]["dataset"] == "endpoint.av" {
                ""
            } else {
                ip
            };
            (rule.to_string(), ip.to_string())
        })
        .collect::<Vec<_>>();
    sorted(all)
}

#[test]
fn every_planted_attack_is_found_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["syslog", "ids", "endpoint"] {
        let log = dir.path().join(format!("{kind}.log"));
        let manifest = dir.path().join(format!("{kind}.jsonl"));
        rampart(&[
            "generate",
            "--kind",
            kind,
            "--events",
            "12000",
            "--attack-every",
            "1500",
            "--seed",
            "42",
            "--start",
            "2026-03-01T10:00:00Z",
            "--to",
            log.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
        ]);
        let want = planted(&manifest);
        assert!(want.len() >= 5, "{kind}: {want:?}");
        let alerts = lines(&rampart(&[
            "hunt",
            log.to_str().unwrap(),
            "--format",
            "jsonl",
            "-q",
        ]));
        assert_eq!(alerts.len(), want.len(), "{kind}: {alerts:#?}");
        assert_eq!(found(&alerts), want, "{kind}");
    }
}

#[test]
fn the_same_seed_gives_the_same_stream() {
    let a = rampart(&[
        "generate",
        "--events",
        "500",
        "--seed",
        "9",
        "--start",
        "2026-03-01T10:00:00Z",
    ]);
    let b = rampart(&[
        "generate",
        "--events",
        "500",
        "--seed",
        "9",
        "--start",
        "2026-03-01T10:00:00Z",
    ]);
    let c = rampart(&[
        "generate",
        "--events",
        "500",
        "--seed",
        "10",
        "--start",
        "2026-03-01T10:00:00Z",
    ]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.lines().count(), 500);
}
