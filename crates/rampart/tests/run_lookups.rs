//! `rampart run` with `lookups:` beyond CSV tables: an HTTP JSON API (a
//! local server answering as an IP reputation service does, its key in a
//! header) asked while events flow under the same limit and cache as
//! VirusTotal, and a MaxMind database joined by address. Answers kept in
//! the store serve the next run without a request; a refused key stops
//! the asking without holding the events back.

mod common;
mod fed;
mod vt_server;

use std::path::Path;
use std::process::Command;

use fed::run_fed;
use serde_json::Value as Json;

/// Lines from a listed, a clean and an unknown address.
const LINES: &str = "\
Mar 14 11:00:01 bastion sshd[4242]: Failed password for root from 185.220.101.45 port 50100 ssh2
Mar 14 11:00:02 bastion sshd[4242]: Failed password for root from 8.8.8.8 port 50101 ssh2
Mar 14 11:00:03 bastion sshd[4242]: Failed password for root from 10.1.2.3 port 50102 ssh2
Mar 14 11:00:04 bastion sshd[4242]: Failed password for admin from 185.220.101.45 port 50103 ssh2
";

/// A reputation service: a score and a country for two addresses, 404
/// for the rest, 401 unless the `Key` header holds `secret`.
fn reputation_service() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    vt_server::answering(|path, headers| {
        let key = headers
            .iter()
            .find(|(n, _)| n == "key")
            .map(|(_, v)| v.as_str());
        if key != Some("secret") {
            return (
                "401 Unauthorized",
                "",
                r#"{"errors":[{"detail":"bad key"}]}"#.into(),
            );
        }
        let ip = path.rsplit('=').next().unwrap_or_default();
        let answer = |score: u32, country: &str| {
            format!(
                r#"{{"data":{{"ipAddress":"{ip}","abuseConfidenceScore":{score},"countryCode":"{country}","usageType":"Data Center","reports":[{{"by":"a"}}]}}}}"#
            )
        };
        match ip {
            "185.220.101.45" => ("200 OK", "", answer(100, "DE")),
            "8.8.8.8" => ("200 OK", "", answer(0, "US")),
            _ => (
                "404 Not Found",
                "",
                r#"{"errors":[{"detail":"unknown"}]}"#.into(),
            ),
        }
    })
}

/// `pipeline.yml` in `dir`: standard input to `events.jsonl` (and, with
/// `store`, answers kept in `lookups.db`), through `lookups` (the YAML
/// list's items).
fn config(dir: &Path, store: bool, lookups: &str) -> std::path::PathBuf {
    let db = if store {
        "  db: {type: store, path: lookups.db}\n"
    } else {
        ""
    };
    let config = dir.join("pipeline.yml");
    std::fs::write(
        &config,
        format!(
            "sources:\n  in: {{type: stdin}}\n\
             sinks:\n  out: {{type: file, path: events.jsonl, take: events}}\n{db}\
             lookups:\n{lookups}\
             health_seconds: 0\n"
        ),
    )
    .unwrap();
    config
}

/// A stdin pipeline asking the service at `url` with the key `key`, its
/// events written to `events.jsonl`, its answers kept in `lookups.db`.
fn pipeline(dir: &Path, url: &str, key: &str) -> std::path::PathBuf {
    std::fs::write(dir.join(".env"), format!("REPUTATION_KEY={key}\n")).unwrap();
    config(
        dir,
        true,
        &format!(
            "\x20 - http: {url}/api/v2/check?ipAddress={{value}}\n\
             \x20   name: reputation-check\n\
             \x20   key: source.ip\n\
             \x20   into: reputation\n\
             \x20   token_env: REPUTATION_KEY\n\
             \x20   token_header: Key\n\
             \x20   fields: {{score: data.abuseConfidenceScore, country: data.countryCode, first_reporter: data.reports.0.by}}\n\
             \x20   per_minute: 600\n\
             \x20   wait_ms: 20000\n"
        ),
    )
}

/// Each event's source address, its `reputation` and its `rampart.pending`.
fn enriched(dir: &Path) -> Vec<(String, Json, Json)> {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let mut out: Vec<(String, Json, Json)> = text
        .lines()
        .map(|l| {
            let e: Json = serde_json::from_str(l).unwrap();
            (
                e["source"]["ip"].as_str().unwrap_or_default().to_string(),
                e["reputation"].clone(),
                e["rampart"]["pending"].clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn a_json_api_enriches_events_and_its_kept_answers_serve_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let (url, asked) = reputation_service();
    let config = pipeline(dir.path(), &url, "secret");
    run_fed(&config, LINES.as_bytes());
    let listed =
        serde_json::json!({"found": true, "score": 100, "country": "DE", "first_reporter": "a"});
    let expected = vec![
        (
            "10.1.2.3".to_string(),
            serde_json::json!({"found": false}),
            Json::Null,
        ),
        ("185.220.101.45".to_string(), listed.clone(), Json::Null),
        ("185.220.101.45".to_string(), listed, Json::Null),
        (
            "8.8.8.8".to_string(),
            serde_json::json!({"found": true, "score": 0, "country": "US", "first_reporter": "a"}),
            Json::Null,
        ),
    ];
    assert_eq!(enriched(dir.path()), expected);
    // Each address asked once, however often it came.
    let mut paths = asked.lock().unwrap().clone();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/api/v2/check?ipAddress=10.1.2.3",
            "/api/v2/check?ipAddress=185.220.101.45",
            "/api/v2/check?ipAddress=8.8.8.8",
        ]
    );
    // The answers (not-found included) were kept: a second run asks
    // nothing and enriches alike.
    std::fs::remove_file(dir.path().join("events.jsonl")).unwrap();
    run_fed(&config, LINES.as_bytes());
    assert_eq!(asked.lock().unwrap().len(), 3);
    assert_eq!(enriched(dir.path()), expected);
}

#[test]
fn a_refused_key_stops_the_asking_and_the_events_pass_on_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let (url, asked) = reputation_service();
    let config = pipeline(dir.path(), &url, "wrong");
    let started = std::time::Instant::now();
    let out = run_fed(&config, LINES.as_bytes());
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("reputation-check: the service refused the key (HTTP 401)"),
        "{said}"
    );
    assert!(!said.contains("wrong"), "the key was printed: {said}");
    // One request was refused; nothing more was sent.
    assert_eq!(asked.lock().unwrap().len(), 1);
    for (ip, reputation, pending) in enriched(dir.path()) {
        assert_eq!(reputation, serde_json::json!({"pending": true}), "{ip}");
        assert_eq!(pending, Json::Null, "{ip}: rampart.pending is VirusTotal's");
    }
}

#[test]
fn a_service_may_be_asked_about_a_field_a_table_adds() {
    // The table gives each internal host its gateway's public address;
    // the service is asked about the gateway.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (url, asked) = reputation_service();
    std::fs::write(d.join(".env"), "REPUTATION_KEY=secret\n").unwrap();
    std::fs::write(
        d.join("gateways.csv"),
        "address,gateway\n10.0.0.0/8,185.220.101.45\n",
    )
    .unwrap();
    let config = config(
        d,
        true,
        &format!(
            "\x20 - csv: gateways.csv\n    key: source.ip\n    into: site\n\
             \x20 - http: {url}/api/v2/check?ipAddress={{value}}\n    key: site.gateway\n    into: exit\n\
             \x20   token_env: REPUTATION_KEY\n    token_header: Key\n    fields: {{score: data.abuseConfidenceScore}}\n    wait_ms: 20000\n"
        ),
    );
    run_fed(&config, LINES.as_bytes());
    let text = std::fs::read_to_string(d.join("events.jsonl")).unwrap();
    let internal: Json = text
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .find(|e| e["source"]["ip"] == "10.1.2.3")
        .unwrap();
    assert_eq!(
        internal["exit"],
        serde_json::json!({"found": true, "score": 100})
    );
    assert_eq!(
        *asked.lock().unwrap(),
        ["/api/v2/check?ipAddress=185.220.101.45"]
    );
}

#[test]
fn a_maxmind_database_joins_its_records_and_check_lists_every_lookup() {
    let Some(mmdb) = common::shared("corpora/maxmind/test-data/GeoIP2-City-Test.mmdb") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("owners.csv"),
        "address,owner\n81.2.69.0/24,uk-office\n",
    )
    .unwrap();
    let config = config(
        d,
        false,
        &format!(
            "\x20 - csv: owners.csv\n    key: source.ip\n    into: asset\n\
             \x20 - mmdb: {}\n    key: source.ip\n    into: place\n    fields: {{country: country.iso_code, city: city.names.en}}\n\
             \x20 - http: http://127.0.0.1:9/{{value}}\n    key: user.name\n    into: person\n",
            mmdb.display()
        ),
    );
    let check = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["run", "--check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{listed}");
    assert!(
        listed.contains("lookup: ") && listed.contains("owners.csv by source.ip, into asset.*"),
        "{listed}"
    );
    assert!(
        listed.contains("GeoIP2-City-Test.mmdb by source.ip, into place.*"),
        "{listed}"
    );
    assert!(
        listed
            .contains("http://127.0.0.1:9/{value} (person: 60 a minute, 10000 a day) by user.name"),
        "{listed}"
    );
    // Without the HTTP lookup (nothing listens on port 9), the tables join.
    let text = std::fs::read_to_string(&config).unwrap();
    let cut = text.split("  - http:").next().unwrap().to_string() + "health_seconds: 0\n";
    std::fs::write(&config, cut).unwrap();
    let line = "Mar 14 11:00:01 bastion sshd[4242]: Failed password for root from 81.2.69.142 port 50100 ssh2\n";
    run_fed(&config, line.as_bytes());
    let e: Json = serde_json::from_str(
        std::fs::read_to_string(d.join("events.jsonl"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    assert_eq!(e["asset"]["owner"], "uk-office");
    assert_eq!(
        e["place"],
        serde_json::json!({"found": true, "country": "GB", "city": "London"})
    );
}
