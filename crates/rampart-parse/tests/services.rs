//! Cloud, identity and platform audit logs: each fixture is recognised as
//! its service (every record, none left generic or dead), the records of
//! wrapped files come out one by one, and the ECS fields analysts search by
//! are filled from the service's own keys, which stay under its prefix.

mod common;

use rampart_event::Event;
use rampart_parse::Output;

fn read(path: &str) -> Output {
    let full = common::workspace().join("fixtures").join(path);
    common::parse_file(&full, path)
}

/// Every record of the file is an event of `dataset`s and nothing is dead.
fn all_of(path: &str, datasets: &[&str], records: usize) -> Vec<Event> {
    let out = read(path);
    assert!(out.dead.is_empty(), "{path}: {:?}", out.dead);
    assert_eq!(out.events.len(), records, "{path}");
    for e in &out.events {
        let d = e.get_str("event.dataset").unwrap_or("");
        assert!(datasets.contains(&d), "{path}: dataset {d}");
        assert!(e.timestamp.is_some(), "{path}: no time in {}", e.original());
    }
    out.events
}

fn find<'a>(events: &'a [Event], field: &str, value: &str) -> &'a Event {
    events
        .iter()
        .find(|e| e.get(field).is_some_and(|v| v.to_string() == value))
        .unwrap_or_else(|| panic!("no event with {field} = {value}"))
}

fn text(e: &Event, field: &str) -> String {
    e.get(field).map(|v| v.to_string()).unwrap_or_default()
}

#[test]
fn cloudtrail_files_lines_and_folder_layout() {
    let records = all_of("cloud/aws/cloudtrail_records.json", &["aws.cloudtrail"], 9);
    let stop = find(&records, "aws.cloudtrail.eventName", "StopLogging");
    assert_eq!(text(stop, "event.action"), "StopLogging");
    assert_eq!(text(stop, "event.provider"), "cloudtrail.amazonaws.com");
    assert_eq!(text(stop, "event.outcome"), "success");
    assert_eq!(text(stop, "source.ip"), "203.0.113.66");
    assert_eq!(text(stop, "cloud.provider"), "aws");
    let failed = find(&records, "aws.cloudtrail.eventName", "DeleteTrail");
    assert_eq!(text(failed, "event.outcome"), "failure");
    assert_eq!(text(failed, "error.code"), "TrailNotFoundException");
    // A service acting for the account is not an address.
    let service = find(&records, "aws.cloudtrail.eventName", "GetBucketAcl");
    assert!(service.get("source.ip").is_none());
    assert_eq!(text(service, "source.domain"), "cloudtrail.amazonaws.com");
    let assumed = find(&records, "aws.cloudtrail.eventName", "UpdateDetector");
    assert!(!text(assumed, "user.name").is_empty());
    // Each record's original is that record, not the whole file.
    assert!(!stop.original().contains("DeleteTrail"));
    all_of("cloud/aws/cloudtrail_lines.jsonl", &["aws.cloudtrail"], 6);
    let gz = "cloud/aws/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/111122223333_CloudTrail_us-east-1_20260314T0905Z_abc123.json.gz";
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(
            std::fs::File::open(common::workspace().join("fixtures").join(gz)).unwrap(),
        ),
        &mut text,
    )
    .unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let records = file["Records"].as_array().unwrap().len();
    assert!(records > 0);
    all_of(gz, &["aws.cloudtrail"], records);
}

#[test]
fn azure_categories_become_their_sigma_services() {
    let activity = all_of("cloud/azure/activity.json", &["azure.activitylogs"], 8);
    assert!(activity
        .iter()
        .all(|e| e.get("azure.operationName").is_some()));
    let signin = all_of("cloud/azure/eventhub_signin.json", &["azure.signinlogs"], 6);
    let ok = find(&signin, "azure.resultType", "0");
    assert_eq!(text(ok, "event.outcome"), "success");
    assert_eq!(text(ok, "user.name"), "alice@example.com");
    assert_eq!(text(ok, "source.ip"), "198.51.100.77");
    let refused = find(&signin, "azure.resultType", "50053");
    assert_eq!(text(refused, "event.outcome"), "failure");
    let audit = all_of("cloud/azure/audit.jsonl", &["azure.auditlogs"], 8);
    let role = find(&audit, "azure.operationName", "Add member to role");
    assert_eq!(text(role, "user.name"), "mallory@example.com");
    // Inside arrays of objects, each path gathers the items' values.
    assert!(role
        .get("azure.properties.targetResources.modifiedProperties.displayName")
        .is_some());
    let risk = all_of("cloud/azure/risk.jsonl", &["azure.riskdetection"], 6);
    find(
        &risk,
        "azure.properties.riskEventType",
        "unfamiliarFeatures",
    );
}

#[test]
fn gcp_audit_entries() {
    let events = all_of("cloud/gcp/audit.jsonl", &["gcp.audit"], 8);
    let create = find(
        &events,
        "event.action",
        "google.iam.admin.v1.CreateServiceAccount",
    );
    assert_eq!(text(create, "user.name"), "mallory@example.com");
    assert_eq!(text(create, "source.ip"), "198.51.100.77");
    assert_eq!(text(create, "event.provider"), "iam.googleapis.com");
    assert!(create
        .get("gcp.protoPayload.authorizationInfo.permission")
        .is_some_and(|v| v.to_string().contains("iam.serviceAccounts.create")));
}

#[test]
fn m365_records_from_the_api_and_both_csv_exports() {
    let api = all_of("cloud/m365/unified_audit.jsonl", &["m365.audit"], 9);
    let login = find(&api, "event.action", "UserLoggedIn");
    assert_eq!(text(login, "user.name"), "bob@example.com");
    assert_eq!(text(login, "event.outcome"), "success");
    // CreationTime has no zone: it is UTC.
    assert_eq!(login.timestamp.unwrap().to_string(), "2026-03-14T09:05:12Z");
    assert_eq!(
        text(login, "m365.audit.ExtendedProperties.RequestType"),
        "Cmsi:Cmsi"
    );
    let csv = all_of("cloud/m365/unified_audit.csv", &["m365.audit"], 6);
    assert_eq!(text(&csv[0], "event.action"), "UserLoggedIn");
    let purview = read("cloud/m365/unified_audit_purview.csv");
    assert!(purview.dead.is_empty(), "{:?}", purview.dead);
    let rule = find(&purview.events, "event.action", "New-InboxRule");
    // An address with its port.
    assert_eq!(text(rule, "source.ip"), "198.51.100.77");
}

#[test]
fn identity_providers() {
    let okta = all_of("identity/okta/system_log.jsonl", &["okta.system"], 9);
    let start = find(&okta, "event.action", "user.session.start");
    assert_eq!(text(start, "user.name"), "alice@example.com");
    assert_eq!(text(start, "event.outcome"), "success");
    assert_eq!(text(start, "okta.securityContext.isProxy"), "true");
    all_of("identity/okta/system_log_array.json", &["okta.system"], 3);
    let onelogin = all_of("identity/onelogin/events.jsonl", &["onelogin.events"], 8);
    assert_eq!(text(&onelogin[0], "event.action"), "5");
    assert_eq!(text(&onelogin[0], "source.ip"), "203.0.113.20");
    let duo = all_of("identity/duo/auth.jsonl", &["cisco.duo"], 6);
    let bypass = find(&duo, "event.reason", "bypass_user");
    assert!(!text(bypass, "user.name").is_empty());
}

#[test]
fn developer_platforms_and_kubernetes() {
    let gh = all_of("application/github/audit.jsonl", &["github.audit"], 8);
    let removed = find(&gh, "event.action", "org.remove_member");
    assert_eq!(text(removed, "user.name"), "octo-admin");
    // Epoch milliseconds.
    assert_eq!(
        removed.timestamp.unwrap().to_string(),
        "2026-03-14T09:05:12.345Z"
    );
    let bb = all_of("application/bitbucket/audit.jsonl", &["bitbucket.audit"], 8);
    let failed = find(&bb, "event.action", "User login failed");
    assert_eq!(
        text(failed, "bitbucket.auditType.category"),
        "Authentication"
    );
    assert_eq!(text(failed, "source.ip"), "203.0.113.9");
    let k8s = all_of(
        "application/kubernetes/audit.jsonl",
        &["kubernetes.audit"],
        10,
    );
    let exec = find(&k8s, "kubernetes.audit.objectRef.subresource", "exec");
    assert_eq!(text(exec, "event.action"), "create");
    assert_eq!(text(exec, "orchestrator.resource.type"), "pods");
    assert_eq!(text(exec, "orchestrator.namespace"), "payments");
    assert_eq!(text(exec, "user.name"), "alice@example.com");
    assert_eq!(text(exec, "source.ip"), "203.0.113.20");
}

#[test]
fn honeypot_and_macos() {
    let canary = all_of(
        "application/opencanary/opencanary.jsonl",
        &["opencanary"],
        12,
    );
    let post = find(&canary, "opencanary.logtype", "3001");
    assert_eq!(text(post, "event.action"), "http_post_login_attempt");
    assert_eq!(text(post, "user.name"), "admin");
    assert_eq!(text(post, "source.ip"), "203.0.113.9");
    assert_eq!(text(post, "destination.port"), "80");
    // An unset address (`""`) and port (-1) stay unset.
    let boot = find(&canary, "opencanary.logtype", "1001");
    assert!(boot.get("source.ip").is_none() && boot.get("source.port").is_none());
    let unified = all_of("macos/unified_log.ndjson", &["macos.unifiedlog"], 10);
    let sshd = find(&unified, "process.name", "sshd");
    assert!(text(sshd, "message").starts_with("Accepted publickey"));
    let exec = all_of("macos/eslogger_exec.jsonl", &["macos.process"], 5);
    let dscl = find(&exec, "process.name", "dscl");
    assert_eq!(text(dscl, "process.parent.executable"), "/usr/bin/sudo");
    assert!(text(dscl, "process.command_line").starts_with("dscl"));
}

#[test]
fn look_alikes_are_not_taken_for_a_service() {
    // An `Event ID` column alone does not make a Windows export.
    let csv = "Event Type,Event Name,Request ID,Event ID,Event DateTime,Source IP\nAwsApiCall,ListObjects,E2E9,2830,2022-02-18T17:34:57Z,192.0.2.7\n";
    let out = rampart_parse::parse_text(csv, common::context("x.csv"), None);
    assert_eq!(out.events[0].get_str("event.dataset"), Some("csv"));
    // A JSON log with an `eventName` alone stays generic.
    let json = r#"{"eventName":"StopLogging","time":"2026-01-01T00:00:00Z","operationName":"x"}"#;
    let out = rampart_parse::parse_text(json, common::context("x.json"), None);
    assert_eq!(out.events[0].get_str("event.dataset"), Some("json"));
}

#[test]
fn otrf_cloudtrail_records_shipped_by_logstash() {
    let Some(dir) = common::shared("corpora/otrf-security-datasets/atomic/aws") else {
        return;
    };
    let path = dir.join("collection/ec2_proxy_s3_exfiltration_2020-09-14011940.json");
    let out = common::parse_file(&path, "otrf.json");
    assert!(out.dead.is_empty(), "{:?}", out.dead);
    assert!(out.events.len() > 100);
    for e in &out.events {
        assert_eq!(
            e.get_str("event.dataset"),
            Some("aws.cloudtrail"),
            "{}",
            e.original()
        );
        assert!(e.timestamp.is_some());
    }
    // The S3 honey-bucket export beside it is a plain table.
    let csv = common::parse_file(&dir.join("discovery/AWS_S3_HoneyBucketLogs.csv"), "h.csv");
    assert!(csv
        .events
        .iter()
        .all(|e| e.get_str("event.dataset") == Some("csv")));
}
