//! Sigma placeholders: a rule with `expand` and a `%name%` value cannot run
//! until the config gives the name its values, says so in `rules validate`,
//! and once given them matches exactly those values.

mod common;

use common::{rampart, workspace};

const RULE: &str = r#"
title: a console login by an administrator
id: 00000000-0000-4000-8000-0000000000a1
logsource: {product: aws, service: cloudtrail}
detection:
  s:
    eventName: ConsoleLogin
    userIdentity.userName|expand: '%admins%'
  condition: s
level: medium
"#;

#[test]
fn placeholders_come_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let rule = dir.path().join("admins.yml");
    std::fs::write(&rule, RULE).unwrap();
    let rule = rule.display().to_string();
    let config = dir.path().join("config.yml");
    std::fs::write(&config, "placeholders:\n  admins: [alice, root-admin]\n").unwrap();
    let config = config.display().to_string();

    let unset = rampart(&db, &["rules", "validate", &rule, "--format", "jsonl"]);
    let text = String::from_utf8_lossy(&unset.stdout);
    assert!(!unset.status.success());
    assert!(
        text.contains("placeholder %admins% has no configured values"),
        "{text}"
    );
    let set = rampart(&db, &["rules", "validate", &rule, "--config", &config]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stdout)
    );

    let trail = workspace().join("fixtures/cloud/aws/cloudtrail_records.json");
    let trail = trail.display().to_string();
    let hunt = rampart(
        &db,
        &[
            "hunt",
            &trail,
            "--rules",
            &rule,
            "--config",
            &config,
            "--no-builtin",
            "-q",
            "--format",
            "jsonl",
        ],
    );
    let alerts = String::from_utf8(hunt.stdout).unwrap();
    let users: Vec<String> = alerts
        .lines()
        .map(|l| {
            let a: serde_json::Value = serde_json::from_str(l).unwrap();
            a.to_string()
        })
        .collect();
    // alice's console login matches; the other console login is not an admin's.
    assert_eq!(users.len(), 1, "{alerts}");
    assert!(users[0].contains("alice"), "{alerts}");
}
