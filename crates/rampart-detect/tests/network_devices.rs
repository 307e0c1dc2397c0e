//! SigmaHQ's network device rules (Cisco, Huawei, FortiGate, Juniper) over the
//! team's device logs in `fixtures/network`, read as rampart reads any file.
//! Skipped when ../shared/corpora is absent (the rules come from there).

use std::collections::BTreeSet;
use std::path::PathBuf;

use rampart_detect::{load_path, CompileOptions, RuleSet};
use rampart_parse::{parse_bytes, FileContext, ParseOptions};

mod common;
use common::corpora;

#[test]
fn device_rules_fire_on_device_logs() {
    let Some(rules_dir) = corpora("sigma/rules/network") else {
        return;
    };
    let set = RuleSet::build(load_path(&rules_dir), &CompileOptions::default());
    let waiting: Vec<&str> = set
        .rules()
        .iter()
        .filter(|r| r.route.no_source.is_some())
        .map(|r| r.rule.title.as_str())
        .collect();
    assert!(waiting.is_empty(), "{waiting:?}");
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/network");
    let mut fired = BTreeSet::new();
    for name in [
        "cisco.log",
        "cisco-buffer.log",
        "fortigate.log",
        "junos.log",
    ] {
        let path = fixtures.join(name);
        let ctx = FileContext::new(
            &path.display().to_string(),
            ParseOptions {
                year: Some(2025),
                ..ParseOptions::default()
            },
        );
        let out = parse_bytes(&std::fs::read(&path).unwrap(), ctx, None);
        assert_eq!(out.stats.unparsed, 0, "{name}");
        for e in &out.events {
            for hit in set.matches(e) {
                fired.insert((name, hit.rule.rule.title.clone()));
            }
        }
    }
    let fired: BTreeSet<(&str, &str)> = fired.iter().map(|(f, t)| (*f, t.as_str())).collect();
    for want in [
        ("cisco.log", "Cisco Clear Logs"),
        ("cisco.log", "Cisco Disabling Logging"),
        ("cisco.log", "Cisco Collect Data"),
        ("cisco.log", "Huawei BGP Authentication Failures"),
        ("cisco-buffer.log", "Cisco Show Commands Input"),
        ("cisco-buffer.log", "Cisco File Deletion"),
        (
            "fortigate.log",
            "FortiGate - New Administrator Account Created",
        ),
        ("fortigate.log", "FortiGate - New Firewall Policy Added"),
        ("fortigate.log", "FortiGate - VPN SSL Settings Modified"),
        ("junos.log", "Juniper BGP Missing MD5"),
    ] {
        assert!(fired.contains(&want), "{want:?} not in {fired:#?}");
    }
    // Only the kernel's MD5 message in the Junos log is a detection.
    assert_eq!(
        fired.iter().filter(|(f, _)| *f == "junos.log").count(),
        1,
        "{fired:#?}"
    );
    // The denied traffic record is no configuration change.
    assert_eq!(
        fired.iter().filter(|(f, _)| *f == "fortigate.log").count(),
        3,
        "{fired:#?}"
    );
}
