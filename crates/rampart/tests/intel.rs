//! Threat intelligence end to end: feeds given with `--intel`, the IOC
//! database that later runs check by themselves, `ioc-match` alerts folded
//! per indicator, and seed 001's feed check.

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::{shared, workspace};

fn rampart(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .env("XDG_DATA_HOME", dir)
        .env_remove("RAMPART_DB")
        .output()
        .unwrap()
}

fn alerts(output: &Output) -> Vec<serde_json::Value> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ioc_alerts(output: &Output) -> Vec<serde_json::Value> {
    alerts(output)
        .into_iter()
        .filter(|a| a["rule_id"] == "ioc-match")
        .collect()
}

/// The `ioc-match` alerts of hunting `log` with `feed` alone (no database).
fn ioc_hunt(feed: &Path, log: &Path, dir: &Path) -> Vec<serde_json::Value> {
    let (feed, log) = (feed.to_str().unwrap(), log.to_str().unwrap());
    ioc_alerts(&rampart(
        &["hunt", "--no-db", "--intel", feed, "--format", "jsonl", log],
        dir,
    ))
}

/// A Security Log Generator IDS line between two addresses.
fn ids_line(minute: u32, src: &str, dst: &str) -> String {
    format!("2026-02-06 12:{minute:02}:00,000 - ids_logger_1 - high_severity - TCP - {src}:4444 --> {dst}:80 - SYN - Malicious traffic\n")
}

#[test]
fn seed1_feed_flags_the_readme_line_with_its_confidence_and_no_shipped_line() {
    let Some(seed) = shared("seed-data/seed1") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let feed = seed.join("ipsum_head300.txt");
    let ids = seed.join("ids.log");
    assert!(ioc_hunt(&feed, &ids, dir.path()).is_empty());
    if let Some(full) = shared("corpora/ipsum/ipsum.txt") {
        assert!(ioc_hunt(&full, &ids, dir.path()).is_empty());
    }
    // The README's example line, added to the shipped log.
    let log = dir.path().join("ids.log");
    let mut text = std::fs::read_to_string(&ids).unwrap();
    text.push_str(&ids_line(0, "213.209.159.158", "10.0.0.10"));
    std::fs::write(&log, text).unwrap();
    let found = ioc_hunt(&feed, &log, dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["severity"], "critical");
    assert_eq!(found[0]["group"]["indicator"], "213.209.159.158");
    let enrichment = &found[0]["events"][0]["threat"]["enrichments"][0];
    assert_eq!(enrichment["indicator"]["confidence"], 11);
    assert_eq!(enrichment["matched"]["field"], "source.ip");
}

#[test]
fn the_database_is_checked_by_later_runs_and_repeats_fold_per_indicator() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stix = workspace().join("feeds/stix.json");
    let import = rampart(&["ioc", "import", stix.to_str().unwrap()], d);
    assert!(import.status.success());
    let said = String::from_utf8_lossy(&import.stderr);
    assert!(said.contains("9 added, 0 updated, 0 unchanged"), "{said}");
    let again = rampart(&["ioc", "import", stix.to_str().unwrap()], d);
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("0 added, 0 updated, 9 unchanged"), "{said}");

    // 198.51.100.7 is a listed address; 203.0.113.5 is inside a listed /24.
    let mut text = String::new();
    for minute in 0..3 {
        text.push_str(&ids_line(minute, "192.0.2.10", "198.51.100.7"));
    }
    text.push_str(&ids_line(3, "203.0.113.5", "192.0.2.10"));
    text.push_str(&ids_line(4, "192.0.2.10", "192.0.2.11"));
    std::fs::write(d.join("ids.log"), text).unwrap();
    let out = rampart(&["hunt", "--format", "jsonl", "ids.log"], d);
    let mut found = ioc_alerts(&out);
    found.sort_by_key(|a| a["group"]["indicator"].as_str().unwrap().to_owned());
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0]["group"]["indicator"], "198.51.100.7");
    assert_eq!(
        found[0]["count"], 3,
        "three sightings in one burst, one alert"
    );
    assert_eq!(found[0]["matched"][0]["field"], "destination.ip");
    assert_eq!(found[1]["group"]["indicator"], "203.0.113.0/24");

    // Removed from the database, it is no longer matched.
    assert!(rampart(&["ioc", "remove", "198.51.100.7"], d)
        .status
        .success());
    let out = rampart(&["hunt", "--format", "jsonl", "ids.log"], d);
    assert_eq!(ioc_alerts(&out).len(), 1);
    let out = rampart(&["hunt", "--no-db", "--format", "jsonl", "ids.log"], d);
    assert!(ioc_alerts(&out).is_empty());
}

#[test]
fn parse_with_a_feed_adds_enrichments_to_matching_events_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut text = ids_line(0, "192.0.2.10", "198.51.100.77");
    text.push_str(&ids_line(1, "192.0.2.10", "192.0.2.11"));
    std::fs::write(d.join("ids.log"), text).unwrap();
    let feed = workspace().join("feeds/ipsum.txt");
    let out = rampart(
        &[
            "parse",
            "--no-db",
            "--intel",
            feed.to_str().unwrap(),
            "ids.log",
        ],
        d,
    );
    let events = alerts(&out);
    assert_eq!(events.len(), 2);
    let enrichment = &events[0]["threat"]["enrichments"][0];
    assert_eq!(enrichment["indicator"]["value"], "198.51.100.77");
    assert_eq!(enrichment["indicator"]["confidence"], 10);
    assert_eq!(enrichment["matched"]["field"], "destination.ip");
    assert!(events[1].get("threat").is_none());
}

#[test]
fn ioc_add_list_export_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let add = rampart(
        &[
            "ioc",
            "add",
            "Evil.Example.COM",
            "203.0.113.9",
            "--confidence",
            "80",
            "--tags",
            "c2,manual",
        ],
        d,
    );
    assert!(add.status.success());
    let bad = rampart(&["ioc", "add", "999.1.1.1"], d);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("999.1.1.1"));
    let past = rampart(
        &[
            "ioc",
            "add",
            "198.51.100.1",
            "--expires",
            "2020-01-01T00:00:00Z",
        ],
        d,
    );
    assert!(past.status.success());
    let list = rampart(&["ioc", "list", "--format", "jsonl"], d);
    let rows = alerts(&list);
    assert_eq!(rows.len(), 2, "the expired one is not active");
    assert_eq!(rows[0]["value"], "evil.example.com");
    assert_eq!(rows[0]["tags"], serde_json::json!(["c2", "manual"]));
    let all = alerts(&rampart(&["ioc", "list", "--all", "--format", "jsonl"], d));
    assert_eq!(all.len(), 3);
    // What export writes, import reads back unchanged.
    let export = rampart(&["ioc", "export", "-o", "out.csv"], d);
    assert!(export.status.success());
    let import = rampart(&["ioc", "import", "--source", "manual", "out.csv"], d);
    let said = String::from_utf8_lossy(&import.stderr);
    assert!(said.contains("0 added, 0 updated, 2 unchanged"), "{said}");
}

#[test]
fn confirmed_alerts_promote_their_addresses_into_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let alerts_file = concat!(
        r#"{"rule_id":"ssh-brute-force","group":{"source.ip":"203.0.113.50"},"events":[]}"#,
        "\n",
        r#"{"rule_id":"port-scan","group":{"source.ip":"203.0.113.50"},"events":[]}"#,
        "\n",
        r#"{"rule_id":"encoded-powershell","group":{"host.name":"ws1"},"events":[{"source":{"ip":"198.51.100.60"}}]}"#,
        "\n",
        "not json\n"
    );
    std::fs::write(d.join("confirmed.jsonl"), alerts_file).unwrap();
    let add = rampart(&["ioc", "add", "--from-alerts", "confirmed.jsonl"], d);
    assert_eq!(add.status.code(), Some(1), "the bad line is reported");
    let said = String::from_utf8_lossy(&add.stderr);
    assert!(said.contains("confirmed.jsonl:4"), "{said}");
    assert!(said.contains("2 added"), "{said}");
    let rows = alerts(&rampart(&["ioc", "list", "--format", "jsonl"], d));
    let promoted = rows.iter().find(|r| r["value"] == "203.0.113.50").unwrap();
    assert_eq!(promoted["source"], "alerts");
    assert_eq!(
        promoted["tags"],
        serde_json::json!(["ssh-brute-force", "port-scan"])
    );
    assert!(rows.iter().any(|r| r["value"] == "198.51.100.60"));
    // The next hunt flags the address.
    std::fs::write(d.join("ids.log"), ids_line(0, "203.0.113.50", "192.0.2.1")).unwrap();
    let found = ioc_alerts(&rampart(&["hunt", "--format", "jsonl", "ids.log"], d));
    assert_eq!(found.len(), 1);
}

#[test]
fn addresses_are_counted_as_events_stream_and_summarised_as_top_talkers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut text = String::new();
    for minute in 0..3 {
        text.push_str(&ids_line(minute, "198.51.100.5", "192.0.2.1"));
    }
    text.push_str(&ids_line(4, "198.51.100.6", "192.0.2.1"));
    std::fs::write(d.join("ids.log"), text).unwrap();
    let events = alerts(&rampart(&["parse", "--no-db", "--count-ips", "ids.log"], d));
    let counts: Vec<i64> = events
        .iter()
        .map(|e| e["rampart"]["ip_hit_count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 3, 1]);
    let hunt = rampart(&["hunt", "--no-db", "ids.log"], d);
    let summary = String::from_utf8_lossy(&hunt.stderr);
    assert!(
        summary.contains("top talkers: 2 distinct source addresses"),
        "{summary}"
    );
    let first = summary
        .lines()
        .skip_while(|l| !l.starts_with("top talkers"))
        .nth(1)
        .unwrap();
    assert!(
        first.contains('3') && first.contains("198.51.100.5"),
        "{first}"
    );
}

#[test]
fn geoip_and_asn_databases_locate_both_ends() {
    let Some(mmdb) = shared("corpora/maxmind/test-data") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 81.2.69.142 is London in MaxMind's City test database; 1.128.0.0/11
    // is AS1221 in its ASN test database; 10.0.0.1 is in neither.
    let mut text = ids_line(0, "81.2.69.142", "1.128.0.1");
    text.push_str(&ids_line(1, "10.0.0.1", "10.0.0.2"));
    std::fs::write(d.join("ids.log"), text).unwrap();
    let city = mmdb.join("GeoIP2-City-Test.mmdb");
    let asn = mmdb.join("GeoLite2-ASN-Test.mmdb");
    let out = rampart(
        &[
            "parse",
            "--no-db",
            "--geoip",
            city.to_str().unwrap(),
            "--asn",
            asn.to_str().unwrap(),
            "ids.log",
        ],
        d,
    );
    let events = alerts(&out);
    let geo = &events[0]["source"]["geo"];
    assert_eq!(geo["country_iso_code"], "GB");
    assert_eq!(geo["city_name"], "London");
    assert!(geo["location"]["lat"].as_f64().is_some());
    assert_eq!(events[0]["destination"]["as"]["number"], 1221);
    assert_eq!(
        events[0]["destination"]["as"]["organization"]["name"],
        "Telstra Pty Ltd"
    );
    assert!(events[1]["source"].get("geo").is_none());
    assert!(events[1]["destination"].get("as").is_none());
}

#[test]
fn a_file_that_is_not_a_maxmind_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ids.log"), ids_line(0, "192.0.2.1", "192.0.2.2")).unwrap();
    std::fs::write(d.join("fake.mmdb"), "not a database").unwrap();
    let out = rampart(&["parse", "--no-db", "--geoip", "fake.mmdb", "ids.log"], d);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("fake.mmdb") && said.contains("not a MaxMind database"),
        "{said}"
    );
}

/// A damaged database (MaxMind's own test file whose node count points past
/// its end), and databases given to the wrong option, are refused with a
/// clear error instead of crashing the run or enriching nothing.
#[test]
fn damaged_or_swapped_maxmind_databases_are_clear_errors() {
    let Some(mmdb) = shared("corpora/maxmind/test-data") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ids.log"), ids_line(0, "81.2.69.142", "1.128.0.1")).unwrap();
    let path = |name: &str| mmdb.join(name).display().to_string();
    for (option, file, said) in [
        (
            "--geoip",
            "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
            "damaged",
        ),
        (
            "--asn",
            "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
            "damaged",
        ),
        (
            "--geoip",
            "GeoLite2-ASN-Test.mmdb",
            "not the City or Country",
        ),
        ("--asn", "GeoIP2-City-Test.mmdb", "not the ASN"),
    ] {
        let out = rampart(&["parse", "--no-db", option, &path(file), "ids.log"], d);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{option} {file}: {stderr}");
        assert!(
            stderr.contains(said) && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
}

/// A server that answers its n-th request with the n-th of `answers`
/// (status line and body), the last one from then on.
fn feed_server(answers: Vec<(&'static str, String)>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let (status, body) = &answers[n.min(answers.len() - 1)];
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

#[test]
fn feeds_refresh_by_url_and_keep_their_last_good_copy() {
    let ipsum = std::fs::read_to_string(workspace().join("feeds/ipsum.txt")).unwrap();
    let url = feed_server(vec![
        ("200 OK", ipsum),
        ("503 Service Unavailable", String::new()),
        ("200 OK", "<html>maintenance</html>".to_owned()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bad = rampart(&["intel", "feed", "add", "local", "/etc/passwd"], d);
    assert_eq!(bad.status.code(), Some(1));
    let add = rampart(
        &["intel", "feed", "add", "ipsum", &format!("{url}/ipsum.txt")],
        d,
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let first = rampart(&["intel", "update"], d);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stderr).contains("ipsum: 15 indicators (IPsum)"));

    std::fs::write(d.join("ids.log"), ids_line(0, "198.51.100.77", "192.0.2.1")).unwrap();
    let flagged = |d: &Path| {
        let found = ioc_alerts(&rampart(&["hunt", "--format", "jsonl", "ids.log"], d));
        found.len() == 1 && found[0]["matched"][0]["search"] == "ipsum (confidence 10)"
    };
    assert!(flagged(d));
    for why in ["HTTP 503", "no indicator in the download"] {
        let failed = rampart(&["intel", "update"], d);
        assert_eq!(failed.status.code(), Some(1));
        let said = String::from_utf8_lossy(&failed.stderr);
        assert!(
            said.contains(why) && said.contains("keeping the copy from"),
            "{said}"
        );
        assert!(flagged(d), "the last good copy is still used");
    }
    let list = rampart(&["intel", "feed", "list"], d);
    assert!(String::from_utf8_lossy(&list.stdout).contains("last update failed: no indicator"));
}

/// A URL indicator matches the HTTP that Zeek and Suricata saw on the wire,
/// which log the host and the request target apart; indicators alone, with
/// no rule pack, are something to hunt with.
#[test]
fn url_indicators_match_http_seen_on_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("urls.txt");
    std::fs::write(
        &feed,
        "http://shop.example.com/products.php?id=1%20UNION%20SELECT%20NULL,NULL--\n",
    )
    .unwrap();
    let suricata = workspace().join("fixtures/suricata");
    let hits = ioc_hunt(&feed, &suricata, dir.path());
    assert!(!hits.is_empty(), "no URL hit in the Suricata fixture");
    assert_eq!(
        hits[0]["group"]["indicator"],
        "http://shop.example.com/products.php?id=1%20UNION%20SELECT%20NULL,NULL--"
    );
    let (feed, log) = (feed.to_str().unwrap(), suricata.to_str().unwrap());
    let only = ioc_alerts(&rampart(
        &[
            "hunt",
            "--no-db",
            "--no-builtin",
            "--intel",
            feed,
            "--format",
            "jsonl",
            log,
        ],
        dir.path(),
    ));
    assert_eq!(only.len(), hits.len());
}
