//! The built-in pack's expected alerts on the seeds' data: seed 0's web
//! application rows (the team's JSON-lines export of its SQL dump, in
//! fixtures) and seed 4's Sysmon-style CSV with encoded PowerShell.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hunt(path: &Path) -> Vec<serde_json::Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["hunt", "--format", "jsonl", "-q", "--no-db"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn per_rule(alerts: &[serde_json::Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for a in alerts {
        *out.entry(a["rule_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    out
}

#[test]
fn seed0_attack_rows_are_all_flagged_and_benign_rows_are_not() {
    let path = workspace().join("fixtures/seed0/web_application_logs.jsonl");
    let alerts = hunt(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let attacks: Vec<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.contains("\"query\": \"\""))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(attacks.len(), 27);
    let mut flagged: Vec<u64> = alerts
        .iter()
        .filter(|a| a["rule_id"] == "web-attack-payload")
        .map(|a| a["origin"]["line"].as_u64().unwrap())
        .collect();
    flagged.sort_unstable();
    assert_eq!(flagged, attacks);
    let log4shell = alerts.iter().find(|a| {
        a["rule_id"] == "web-attack-payload"
            && a["events"][0]["url"]["query"]
                .as_str()
                .is_some_and(|q| q.contains("${jndi:"))
    });
    assert!(log4shell.is_some(), "the Log4Shell row is flagged");
    assert!(
        per_rule(&alerts)["scanner-user-agent"] > 0,
        "Nmap Scripting Engine user agents are flagged"
    );
}

#[test]
fn seed4_encoded_powershell_is_flagged() {
    let path = workspace().join("../shared/seed-data/seed4");
    if !path.exists() {
        println!("skipped: ../shared/corpora absent");
        return;
    }
    let alerts = hunt(&path);
    let encoded: Vec<_> = alerts
        .iter()
        .filter(|a| a["rule_id"] == "encoded-powershell")
        .collect();
    assert_eq!(encoded.len(), 1, "{:?}", per_rule(&alerts));
    let command = encoded[0]["events"][0]["process"]["command_line"]
        .as_str()
        .unwrap();
    assert!(command.to_ascii_lowercase().contains("-enc"), "{command}");
}
