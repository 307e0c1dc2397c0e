//! Sigma rules for cloud, identity, platform and macOS sources run on the
//! records rampart reads for them: `rules validate` counts them as
//! runnable, and a hunt over the fixtures fires the rules written for those
//! records and no rule of another source.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{ok, rampart, shared, workspace};
use serde_json::Value;

/// What a hunt raised: each rule title with its count, and the events
/// (file, line) behind the alerts.
#[derive(Default)]
struct Fired {
    titles: BTreeMap<String, usize>,
    events: Vec<(String, u64)>,
}

/// Rule titles and how often each fired, hunting `paths` with `rules`.
fn fired(paths: &[&Path], rules: &[&Path]) -> BTreeMap<String, usize> {
    hunt(paths, rules).titles
}

fn hunt(paths: &[&Path], rules: &[&Path]) -> Fired {
    let db = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["hunt".into()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    for r in rules {
        args.push("--rules".into());
        args.push(r.display().to_string());
    }
    args.extend(["--no-builtin", "-q", "--format", "jsonl"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = rampart(&db.path().join("r.db"), &args);
    let mut fired = Fired::default();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let alert: Value = serde_json::from_str(line).unwrap();
        let title = alert["title"].as_str().unwrap_or("?").to_owned();
        *fired.titles.entry(title).or_default() += 1;
        for e in alert["events"].as_array().into_iter().flatten() {
            let file = &e["log"]["file"];
            let path = file["path"].as_str().unwrap_or("").replace('\\', "/");
            fired
                .events
                .push((path, file["line"].as_u64().unwrap_or(0)));
        }
    }
    fired
}

/// The project's own rules: one per routed source, on fields as the rules
/// name them (aliases included).
const RULES: &str = r#"
title: trail stopped
id: 00000000-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
detection: {s: {eventSource: cloudtrail.amazonaws.com, eventName: StopLogging}, condition: s}
level: high
---
title: risky sign-in
id: 00000000-0000-4000-8000-000000000002
logsource: {product: azure, service: riskdetection}
detection: {s: {riskEventType: passwordSpray}, condition: s}
level: high
---
title: service account made
id: 00000000-0000-4000-8000-000000000003
logsource: {product: gcp, service: gcp.audit}
detection: {s: {gcp.audit.method_name|endswith: CreateServiceAccount}, condition: s}
level: medium
---
title: exec into a pod
id: 00000000-0000-4000-8000-000000000004
logsource: {product: kubernetes, service: audit}
detection: {s: {verb: create, objectRef.resource: pods, objectRef.subresource: exec}, condition: s}
level: medium
---
title: okta proxy
id: 00000000-0000-4000-8000-000000000005
logsource: {product: okta, service: okta}
detection: {s: {eventType: user.session.start, securityContext.isProxy: 'true'}, condition: s}
level: medium
---
title: word spawns a shell
id: 00000000-0000-4000-8000-000000000006
logsource: {product: macos, category: process_creation}
detection: {s: {ParentImage|contains: Microsoft Word, Image|endswith: /sh}, condition: s}
level: high
---
title: sam over rpc
id: 00000000-0000-4000-8000-000000000007
logsource: {product: rpc_firewall, category: application}
detection: {s: {EventLog: RPCFW, EventID: 3, InterfaceUuid: e3514235-4b06-11d1-ab04-00c04fc2dcd2}, condition: s}
level: high
---
title: any cloudtrail call on azure
id: 00000000-0000-4000-8000-000000000008
logsource: {product: azure, service: activitylogs}
detection: {s: {eventName: StopLogging}, condition: s}
level: high
"#;

#[test]
fn each_source_s_rules_fire_on_its_records_only() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, RULES).unwrap();
    let fixtures = workspace().join("fixtures");
    let paths = ["cloud", "identity", "application", "macos"].map(|d| fixtures.join(d));
    let paths: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let titles = fired(&paths, &[&rules]);
    for (title, at_least) in [
        ("trail stopped", 1),
        ("risky sign-in", 1),
        ("service account made", 1),
        ("exec into a pod", 2),
        ("okta proxy", 1),
        ("word spawns a shell", 1),
        ("sam over rpc", 1),
    ] {
        let n = titles.get(title).copied().unwrap_or(0);
        assert!(n >= at_least, "{title}: {n} alerts in {titles:?}");
    }
    // A rule for Azure never sees CloudTrail's records.
    assert!(
        !titles.contains_key("any cloudtrail call on azure"),
        "{titles:?}"
    );
}

#[test]
fn sigmahq_cloud_identity_and_macos_rules_run_on_the_fixtures() {
    let Some(sigma) = shared("corpora/sigma/rules") else {
        return;
    };
    let db = tempfile::tempdir().unwrap();
    let db = db.path().join("r.db");
    for folder in ["cloud", "identity", "application", "macos"] {
        let report = ok(rampart(
            &db,
            &[
                "rules",
                "validate",
                &sigma.join(folder).display().to_string(),
            ],
        ));
        let summary = report.lines().next().unwrap_or("");
        assert!(summary.contains(", 0 cannot run"), "{folder}: {summary}");
        let waiting = if folder == "cloud" {
            "(7 for"
        } else {
            "(0 for"
        };
        // Only Azure PIM's seven rules wait for a source.
        assert!(summary.contains(waiting), "{folder}: {summary}");
    }
    let fixtures = workspace().join("fixtures");
    let paths = ["cloud", "identity", "application", "macos"].map(|d| fixtures.join(d));
    let paths: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let rules = ["cloud", "identity", "application", "macos"].map(|d| sigma.join(d));
    let rules: Vec<&Path> = rules.iter().map(|p| p.as_path()).collect();
    let Fired { titles, events } = hunt(&paths, &rules);
    // Records no rule is meant for: a failed DeleteFlowLogs (the rule wants
    // it done), ordinary repository access, a routine Azure operation, one
    // wrong OneLogin password, OpenCanary starting up, an approved Duo push,
    // RPC Firewall protecting a process, a plain Workspace login.
    for (file, line) in [
        ("cloud/aws/cloudtrail_lines.jsonl", 3),
        ("application/github/audit.jsonl", 6),
        ("cloud/azure/activity.json", 7),
        ("identity/onelogin/events.jsonl", 2),
        ("application/opencanary/opencanary.jsonl", 1),
        ("identity/duo/auth.jsonl", 1),
        ("application/rpc_firewall/events-oneline.xml", 1),
        ("cloud/gcp/workspace.jsonl", 1),
    ] {
        assert!(
            !events.iter().any(|(p, l)| p.ends_with(file) && *l == line),
            "{file}:{line} raised an alert"
        );
    }
    for title in [
        "AWS CloudTrail Important Change",
        "AWS ConsoleLogin Failed Authentication",
        "Password Spray Activity",
        "Google Cloud Firewall Modified or Deleted",
        "Google Workspace Government Attack Warning",
        "New Federated Domain Added",
        "Okta User Session Start Via An Anonymising Proxy Service",
        "OneLogin User Assumed Another User",
        "Cisco Duo Successful MFA Authentication Via Bypass Code",
        "Github Delete Action Invoked",
        "Bitbucket User Login Failure",
        "Potential Remote Command Execution In Pod Container",
        "OpenCanary - SSH Login Attempt",
        "Possible DCSync Attack",
        "Suspicious Microsoft Office Child Process - MacOS",
    ] {
        assert!(
            titles.contains_key(title),
            "{title} did not fire: {titles:?}"
        );
    }
}
