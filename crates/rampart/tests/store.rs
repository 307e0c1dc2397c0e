//! The store end to end: `ingest` run again adds nothing, appended lines
//! and rotated files are read once, and alerts are listed and triaged.
//! What does not depend on the database runs over both backends: a SQLite
//! file, then a ClickHouse database of a server started for the test
//! (skipped without ClickHouse, unless `RAMPART_REQUIRE_SERVERS` is set).

mod common;
mod servers;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{failures, ingest, ok, rampart};
use rampart_store::{Intake, Stats};

/// Runs `test` with a folder of its own and the `--db` of a SQLite file,
/// then again with the `--db` of the ClickHouse database `name` (each
/// test's own, on the server the tests share; unique in the whole suite,
/// whose statements are run again on today's engine in one place).
fn on_both(name: &str, test: impl Fn(&Path, &Path)) {
    let dir = tempfile::tempdir().unwrap();
    test(dir.path(), &dir.path().join("rampart.db"));
    let installed = Path::new("/usr/bin/clickhouse-server").exists()
        || Path::new("/usr/sbin/clickhouse-server").exists();
    if !servers::available("ClickHouse", installed) {
        return;
    }
    let server = servers::shared("clickhouse.sh");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("clickhouse://127.0.0.1:{}/store_{name}", server.port);
    test(dir.path(), Path::new(&db));
}

/// Whether `db` names a ClickHouse database.
fn is_house(db: &Path) -> bool {
    db.to_str().is_some_and(|d| d.starts_with("clickhouse://"))
}

/// The database `db` names, opened as `ingest` opens it.
fn open(db: &Path) -> Box<dyn Intake> {
    match db.to_str().filter(|_| is_house(db)) {
        Some(url) => Box::new(rampart_clickhouse::ClickHouse::open(url).unwrap()),
        None => Box::new(rampart_store::Store::open(db).unwrap()),
    }
}

/// What `db` holds.
fn stats(db: &Path) -> Stats {
    open(db).stats().unwrap()
}

/// How many stored events `query` finds.
fn found(db: &Path, query: &str) -> usize {
    let args = [
        "events", "-q", query, "--format", "jsonl", "--limit", "100000",
    ];
    ok(rampart(db, &args)).lines().count()
}

/// The stored alerts of `rule`, as `alerts --format jsonl` lists them.
fn alerts_of(db: &Path, rule: &str) -> Vec<serde_json::Value> {
    let args = [
        "alerts", "--rule", rule, "--format", "jsonl", "--limit", "1000",
    ];
    ok(rampart(db, &args))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    // The full-text index's file, beside the database.
    let text = format!("{}-text", db.display());
    conn.execute("ATTACH DATABASE ?1 AS text", [&text]).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Adds `text` at the end of the file `path`.
fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// `auth.log` in `dir`, holding `text`.
fn auth_log(dir: &Path, text: &str) -> PathBuf {
    let auth = dir.join("auth.log");
    std::fs::write(&auth, text).unwrap();
    auth
}

/// A folder holding `auth.log` with `text`, and where its database goes.
fn scene(text: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let auth = dir.path().join("auth.log");
    std::fs::write(&auth, text).unwrap();
    (dir, db, auth)
}

#[test]
fn a_second_ingest_adds_nothing_and_appended_lines_are_read_once() {
    on_both("appended", |dir, db| {
        let logs = dir.join("logs");
        std::fs::create_dir(&logs).unwrap();
        let auth = logs.join("auth.log");
        // Two identical lines stay two events.
        let mut text = failures("203.0.113.9", 0, 3);
        text.push_str(&failures("203.0.113.9", 0, 1));
        text.push_str("this line is in no known format\n");
        std::fs::write(&auth, &text).unwrap();
        std::fs::write(logs.join("bin.dat"), [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
        ingest(db, &logs);
        let counts = |db: &Path| {
            let s = stats(db);
            (s.events, s.dead)
        };
        // The unparsed line is also a dead letter, as is the binary file.
        assert_eq!(counts(db), (5, 2), "4 logins and the unparsed line");
        ingest(db, &logs);
        assert_eq!(counts(db), (5, 2), "the second run adds nothing");

        append(&auth, &failures("198.51.100.4", 100, 2));
        ingest(db, &logs);
        assert_eq!(counts(db), (7, 2), "the appended lines, once");
        assert_eq!(found(db, "source.ip=198.51.100.4"), 2);
        // Text search sees every event's text.
        assert_eq!(found(db, "known"), 1);
        if !is_house(db) {
            assert_eq!(
                count(db, "SELECT count(*) FROM runs WHERE finished IS NOT NULL"),
                3
            );
        }
        // Retention takes the unreadable lines too (ClickHouse deletes them
        // in the background). ClickHouse drops whole days of events by
        // their own time: the line without one is of today.
        let (gone, left) = if is_house(db) { (6, 1) } else { (7, 0) };
        let said = ok(rampart(db, &["prune", "--older-than", "0s"]));
        let want = format!("removed {gone} events, 2 unreadable lines");
        assert!(said.starts_with(&want), "{said}");
        eventually(db, "unreadable lines", |db| stats(db).dead, 0);
        assert_eq!(stats(db).events, left);
    });
}

#[test]
fn a_rotated_log_is_neither_lost_nor_read_twice() {
    on_both("rotated", |dir, db| {
        let logs = dir.join("logs");
        std::fs::create_dir(&logs).unwrap();
        let auth = logs.join("auth.log");
        std::fs::write(&auth, failures("192.0.2.1", 0, 50)).unwrap();
        ingest(db, &logs);
        // More lines arrive, then the log is rotated and compressed, and a
        // new one starts, before the next run.
        append(&auth, &failures("192.0.2.2", 50, 10));
        let rotated = std::fs::read(&auth).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&rotated).unwrap();
        std::fs::write(logs.join("auth.log.1.gz"), gz.finish().unwrap()).unwrap();
        std::fs::write(&auth, failures("192.0.2.3", 200, 5)).unwrap();
        ingest(db, &logs);
        assert_eq!(stats(db).events, 65);
        for (ip, n) in [("192.0.2.1", 50), ("192.0.2.2", 10), ("192.0.2.3", 5)] {
            assert_eq!(found(db, &format!("source.ip={ip}")), n, "{ip}");
        }
        if !is_house(db) {
            assert_eq!(count(db, "SELECT count(*) FROM sources"), 2);
        }
    });
}

#[test]
fn alerts_are_stored_listed_and_triaged_with_their_history() {
    on_both("triaged", |dir, db| {
        alerts_triaged(db, &auth_log(dir, &failures("203.0.113.77", 0, 12)))
    });
}

fn alerts_triaged(db: &Path, auth: &Path) {
    let db = db.to_path_buf();
    ingest(&db, auth);
    let list = ok(rampart(&db, &["alerts", "--format", "jsonl"]));
    let alerts: Vec<serde_json::Value> = list
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let brute = alerts
        .iter()
        .find(|a| a["rule_id"] == "ssh-brute-force")
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(brute["status"], "open");
    assert_eq!(brute["count"], 12);
    let id = brute["id"].as_str().unwrap();
    ok(rampart(
        &db,
        &[
            "alerts",
            "ack",
            &id[..10],
            "--note",
            "on it",
            "--user",
            "ana",
        ],
    ));
    ok(rampart(
        &db,
        &["alerts", "assign", id, "--to", "bob", "--user", "ana"],
    ));
    ok(rampart(&db, &["alerts", "close", id, "--user", "bob"]));
    let shown: serde_json::Value =
        serde_json::from_str(&ok(rampart(&db, &["alerts", "show", id]))).unwrap();
    assert_eq!(shown["status"], "closed");
    assert_eq!(shown["assignee"], "bob");
    let steps: Vec<(&str, &str)> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["user"].as_str().unwrap(), s["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [("ana", "acknowledge"), ("ana", "assign"), ("bob", "close")]
    );
    assert_eq!(shown["history"][0]["note"], "on it");
    // Filters: the closed alert is not open; the CSV is formula-safe.
    let open = ok(rampart(
        &db,
        &["alerts", "--status", "open", "--format", "jsonl"],
    ));
    assert!(!open.contains(id));
    let csv = ok(rampart(
        &db,
        &["alerts", "--status", "closed", "--format", "csv"],
    ));
    assert_eq!(csv.lines().count(), 2, "{csv}");
    // Ingesting again keeps the triage.
    ingest(&db, auth);
    let again: serde_json::Value =
        serde_json::from_str(&ok(rampart(&db, &["alerts", "show", id]))).unwrap();
    assert_eq!(again["status"], "closed");
    // An unknown id is an error that names it.
    let missing = rampart(&db, &["alerts", "show", "ffffffffffff"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ffffffffffff"));
}

#[test]
fn the_default_database_lives_in_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.log");
    std::fs::write(&auth, failures("203.0.113.5", 0, 2)).unwrap();
    let elsewhere = dir.path().join("cwd");
    std::fs::create_dir(&elsewhere).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["ingest", "-q", "--year", "2025"])
        .arg(&auth)
        .current_dir(&elsewhere)
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env_remove("RAMPART_DB")
        .output()
        .unwrap();
    ok(out);
    let db: PathBuf = dir.path().join("data/rampart/rampart.db");
    assert_eq!(count(&db, "SELECT count(*) FROM events"), 2);
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
}

#[test]
fn stored_events_are_searched_by_field_and_text_and_counted() {
    let mut text = failures("203.0.113.7", 0, 3);
    text.push_str(&failures("198.51.100.4", 10, 2));
    text.push_str(
        "Mar 14 03:01:00 web01 sshd[1]: Accepted password for alice from 10.1.2.3 port 5000 ssh2\n",
    );
    on_both("searched", |dir, db| searched(db, &auth_log(dir, &text)));
}

fn searched(db: &Path, auth: &Path) {
    let db = db.to_path_buf();
    ingest(&db, auth);
    let found = |query: &str| -> Vec<serde_json::Value> {
        ok(rampart(&db, &["events", "-q", query, "--format", "jsonl"]))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    assert_eq!(found("source.ip=203.0.113.7").len(), 3);
    assert_eq!(found("source.ip=10.0.0.0/8").len(), 1);
    assert_eq!(found("user.name=ali* and accepted").len(), 1);
    assert_eq!(
        found("not source.ip=203.0.113.0/24 and \"failed password\"").len(),
        2
    );
    let newest = found("source.port>=40010");
    assert_eq!(newest.len(), 2);
    assert!(newest[0]["@timestamp"].as_str() > newest[1]["@timestamp"].as_str());
    let counts = ok(rampart(&db, &["events", "--count-by", "source.ip"]));
    assert_eq!(
        counts
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["3", "203.0.113.7"]
    );
    let bad = rampart(&db, &["events", "-q", "source.ip=(1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("column 11"));
}

#[test]
fn seed_001s_tables_are_there_for_its_users() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let ids = dir.path().join("ids.log");
    std::fs::write(
        &ids,
        "2023-07-23 21:36:36,227 - ids_logger_1 - high_severity - TCP - 213.209.159.158:57020 --> 10.0.0.10:443 - SYN - Port scanning\n\
         2023-07-23 21:36:37,329 - ids_logger_1 - low_severity - HTTP - 183.39.66.113:53032 --> 35.37.169.200:80 - SYN - Port scanning\n\
         2023-07-23 21:36:38,100 - ids_logger_2 - medium_severity - UDP - 198.51.100.23:5353 --> 10.0.0.11:53 - - - Malicious traffic\n",
    )
    .unwrap();
    let feed = dir.path().join("feed.txt");
    std::fs::write(&feed, "# IPsum\n213.209.159.158\t11\n").unwrap();
    ok(rampart(
        &db,
        &["ioc", "add", "198.51.100.23", "--source", "analyst"],
    ));
    let out = rampart(
        &db,
        &[
            "ingest",
            "-q",
            "--intel",
            feed.to_str().unwrap(),
            ids.to_str().unwrap(),
        ],
    );
    ok(out);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let row: (String, String, String, String, i64, i64) = conn
        .query_row(
            "SELECT timestamp, severity, protocol, src_ip, dst_port, is_malicious FROM enriched_logs
             WHERE src_ip = '213.209.159.158'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "2023-07-23 21:36:36.227".into(),
            "high_severity".into(),
            "TCP".into(),
            "213.209.159.158".into(),
            443,
            1
        )
    );
    let malicious: Vec<(String, Option<i64>)> = conn
        .prepare("SELECT src_ip, threat_confidence FROM enriched_logs WHERE is_malicious ORDER BY src_ip")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        malicious,
        [
            ("198.51.100.23".to_owned(), None),
            ("213.209.159.158".to_owned(), Some(11))
        ]
    );
    assert_eq!(count(&db, "SELECT count(*) FROM raw_logs"), 3);
    assert_eq!(count(&db, "SELECT count(*) FROM threat_ips"), 1);
    // The high-severity line's passthrough alert is stored linked to its
    // event, not with a copy of it, and reads back whole.
    // (ioc-match alerts fold repeats over a window, so they leave later
    // than their batch and carry their events.)
    assert_eq!(count(&db, "SELECT count(*) FROM alert_events"), 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM alerts WHERE rule_id = 'ids-alert' AND doc LIKE '%original%'"
        ),
        0
    );
    let listed = ok(rampart(
        &db,
        &["alerts", "--rule", "ids-alert", "--format", "jsonl"],
    ));
    let alert: serde_json::Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert_eq!(
        alert["events"][0]["event"]["original"].as_str().unwrap(),
        "2023-07-23 21:36:36,227 - ids_logger_1 - high_severity - TCP - 213.209.159.158:57020 --> 10.0.0.10:443 - SYN - Port scanning"
    );
}

#[test]
fn alerts_and_events_are_exported_by_the_files_extension() {
    // A user name that a spreadsheet would take for a formula.
    let mut text = failures("203.0.113.77", 0, 12);
    text.push_str("Mar 14 03:09:00 web01 sshd[1]: Invalid user =cmd|'/c calc'!A1 from 203.0.113.78 port 5000\n");
    on_both("exported", |dir, db| {
        exported(dir, db, &auth_log(dir, &text))
    });
}

fn exported(dir: &Path, db: &Path, auth: &Path) {
    let db = db.to_path_buf();
    ingest(&db, auth);
    let report = dir.join("report.csv");
    ok(rampart(
        &db,
        &["export", "--output", report.to_str().unwrap()],
    ));
    let csv = std::fs::read_to_string(&report).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("id,time,severity,status,assignee,count,rule_id,title,group"),
        "{header}"
    );
    assert!(csv.contains("ssh-brute-force"), "{csv}");
    let events = dir.join("events.jsonl");
    ok(rampart(
        &db,
        &[
            "export",
            "events",
            "-q",
            "source.ip=203.0.113.77",
            "--output",
            events.to_str().unwrap(),
        ],
    ));
    assert_eq!(
        std::fs::read_to_string(&events).unwrap().lines().count(),
        12
    );
    let all = dir.join("events.csv");
    ok(rampart(
        &db,
        &["export", "events", "--output", all.to_str().unwrap()],
    ));
    let rows = std::fs::read_to_string(&all).unwrap();
    assert_eq!(rows.lines().count(), 14, "a header and 13 events");
    assert!(!rows.contains(",=cmd"), "formulas are neutralised: {rows}");
    let json = dir.join("events.json");
    ok(rampart(
        &db,
        &[
            "export",
            "events",
            "--limit",
            "2",
            "--output",
            json.to_str().unwrap(),
        ],
    ));
    let parsed: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(parsed.len(), 2);
    let unknown = rampart(
        &db,
        &["export", "--output", dir.join("x.xls").to_str().unwrap()],
    );
    assert_eq!(unknown.status.code(), Some(1));
}

#[test]
fn prune_removes_what_was_stored_before_the_age_and_gives_the_space_back() {
    // Logs dated long ago are kept: retention counts from when they were stored.
    let (_dir, db, auth) = scene(&failures("203.0.113.7", 0, 3000));
    ingest(&db, &auth);
    let stats = ok(rampart(&db, &["stats"]));
    assert!(stats.contains(": 3000 events"), "{stats}");
    assert!(stats.contains("linux.auth"), "{stats}");
    let kept = ok(rampart(&db, &["prune", "--older-than", "1d"]));
    assert!(kept.starts_with("removed 0 events"), "{kept}");
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    let before = size(&db);
    let gone = ok(rampart(
        &db,
        &["prune", "--older-than", "0s", "--events-only"],
    ));
    assert!(gone.starts_with("removed 3000 events"), "{gone}");
    assert_eq!(count(&db, "SELECT count(*) FROM events"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM events_text"), 0);
    assert!(
        count(&db, "SELECT count(*) FROM alerts") > 0,
        "--events-only keeps alerts"
    );
    assert!(size(&db) < before / 2, "{} then {}", before, size(&db));
    // What was read stays read: pruned events do not come back.
    ingest(&db, &auth);
    assert_eq!(count(&db, "SELECT count(*) FROM events"), 0);
    let bad = rampart(&db, &["prune", "--older-than", "3y"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_second_writer_waits_for_the_first_and_says_so() {
    let (dir, db, auth) = scene(&failures("203.0.113.7", 0, 5));
    // Another writer holds the database.
    let lock = std::fs::File::create(dir.path().join("rampart.db.lock")).unwrap();
    lock.lock().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--db")
        .arg(&db)
        .args(["ingest", "--year", "2025"])
        .arg(&auth)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut first).unwrap();
    assert!(first.contains("waiting"), "{first}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "it waits while the lock is held"
    );
    drop(lock);
    assert!(child.wait().unwrap().success());
    assert_eq!(count(&db, "SELECT count(*) FROM events"), 5);
}

#[test]
fn a_false_positive_can_silence_its_group_and_switch_its_indicator_off() {
    let (dir, db, auth) = scene(&failures("203.0.113.77", 0, 12));
    ok(rampart(
        &db,
        &["ioc", "add", "203.0.113.77", "--source", "analyst"],
    ));
    ingest(&db, &auth);
    let rules_of = |hunt: &str| -> Vec<String> {
        hunt.lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["rule_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let hunt = || {
        ok(rampart(
            &db,
            &[
                "hunt",
                "-q",
                "--year",
                "2025",
                "--format",
                "jsonl",
                auth.to_str().unwrap(),
            ],
        ))
    };
    let before = rules_of(&hunt());
    assert!(before.contains(&"ssh-brute-force".to_owned()), "{before:?}");
    assert!(before.contains(&"ioc-match".to_owned()), "{before:?}");
    let id_of = |rule: &str| -> String {
        let list = ok(rampart(
            &db,
            &["alerts", "--rule", rule, "--format", "jsonl"],
        ));
        let first: serde_json::Value = serde_json::from_str(list.lines().next().unwrap()).unwrap();
        first["id"].as_str().unwrap().to_owned()
    };
    let brute = id_of("ssh-brute-force");
    let said = ok(rampart(
        &db,
        &[
            "alerts",
            "false-positive",
            &brute,
            "--suppress",
            "--note",
            "pen test",
            "--user",
            "ana",
        ],
    ));
    assert!(said.contains("source.ip=203.0.113.77"), "{said}");
    let ioc = id_of("ioc-match");
    ok(rampart(
        &db,
        &["alerts", "false-positive", &ioc, "--deactivate-ioc"],
    ));
    let after = rules_of(&hunt());
    assert!(!after.contains(&"ssh-brute-force".to_owned()), "{after:?}");
    assert!(!after.contains(&"ioc-match".to_owned()), "{after:?}");
    // Another address still raises it: only the group is silenced.
    let other = dir.path().join("other.log");
    std::fs::write(&other, failures("198.51.100.9", 0, 12)).unwrap();
    let hunt_other = ok(rampart(
        &db,
        &[
            "hunt",
            "-q",
            "--year",
            "2025",
            "--format",
            "jsonl",
            other.to_str().unwrap(),
        ],
    ));
    assert!(rules_of(&hunt_other).contains(&"ssh-brute-force".to_owned()));
    let listed = ok(rampart(&db, &["suppress", "list"]));
    assert!(
        listed.contains("ssh-brute-force") && listed.contains("by ana: pen test"),
        "{listed}"
    );
    let n = listed.split_whitespace().next().unwrap();
    ok(rampart(&db, &["suppress", "remove", n]));
    assert!(rules_of(&hunt()).contains(&"ssh-brute-force".to_owned()));
    // Not an ioc-match alert: nothing to switch off, and it says so.
    let wrong = rampart(
        &db,
        &["alerts", "false-positive", &brute, "--deactivate-ioc"],
    );
    assert_eq!(wrong.status.code(), Some(1));
}

#[test]
fn a_file_that_is_not_a_database_is_named_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.log");
    std::fs::write(&auth, failures("203.0.113.7", 0, 2)).unwrap();
    let foreign = dir.path().join("notes.db");
    std::fs::write(&foreign, "my notes, not a database\n".repeat(200)).unwrap();
    let before = std::fs::read(&foreign).unwrap();
    for args in [
        vec!["ingest", "-q", auth.to_str().unwrap()],
        vec!["alerts"],
        vec!["events", "-q", "x"],
        vec!["stats"],
    ] {
        let out = rampart(&foreign, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("notes.db") && said.contains("not a database"),
            "{args:?}: {said}"
        );
    }
    assert_eq!(
        std::fs::read(&foreign).unwrap(),
        before,
        "the file is not touched"
    );
}

/// Waits up to 10 s for `what` of `db` to be `n`.
fn eventually(db: &Path, what: &str, of: impl Fn(&Path) -> u64, n: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = of(db);
        if now == n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: {now}, not {n}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A child process killed when dropped, should the test fail first.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn follow_stores_appended_lines_and_new_files_as_they_come() {
    on_both("followed", followed);
}

fn followed(dir: &Path, db: &Path) {
    let logs = dir.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let auth = logs.join("auth.log");
    std::fs::write(&auth, failures("192.0.2.1", 0, 3)).unwrap();
    // Made here, in the record, not by the first of the reads below.
    drop(open(db));
    let mut child = Stopped(
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .arg("--db")
            .arg(db)
            .args(["ingest", "--follow", "-q", "--year", "2025"])
            .arg(&logs)
            .spawn()
            .unwrap(),
    );
    // The test's reads while `--follow` writes stay out of CI's record of
    // ClickHouse statements: the record has one client's inserts and
    // another's queries in the order they were made, not the order the
    // server took them in.
    // Read as the database is while it is there; nothing before.
    let read = |db: &Path, args: &[&str]| {
        let mut command = common::command();
        command.env_remove("RAMPART_CLICKHOUSE_TRANSCRIPT");
        let out = command.arg("--db").arg(db).args(args).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let events = |db: &Path| -> u64 {
        let first = read(db, &["stats"]);
        let counts = first.lines().next().and_then(|l| l.split_once(": "));
        counts.map_or(0, |(_, c)| {
            c.split_whitespace().next().unwrap().parse().unwrap()
        })
    };
    eventually(db, "events", events, 3);
    append(&auth, &failures("192.0.2.2", 10, 4));
    eventually(db, "events", events, 7);
    std::fs::write(logs.join("new.log"), failures("192.0.2.3", 20, 2)).unwrap();
    eventually(db, "events", events, 9);
    append(&auth, &failures("192.0.2.2", 14, 4));
    eventually(db, "events", events, 13);
    // Half a line, as a writer may leave it between two writes: read once
    // it is whole, as one event.
    let line = failures("192.0.2.4", 30, 1);
    let (first, rest) = line.split_at(30);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&auth)
        .unwrap();
    f.write_all(first.as_bytes()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(events(db), 13, "half a line is not an event yet");
    f.write_all(rest.as_bytes()).unwrap();
    drop(f);
    eventually(db, "events", events, 14);
    let fourth = |db: &Path| {
        let args = ["events", "-q", "source.ip=192.0.2.4", "--format", "jsonl"];
        read(db, &args).lines().count() as u64
    };
    eventually(db, "events of 192.0.2.4", fourth, 1);
    // The second address's failures, four then four more a pass later,
    // make one brute force, stored while it goes on and updated as it grows.
    let brute = |db: &Path| {
        read(
            db,
            &["alerts", "--rule", "ssh-brute-force", "--format", "jsonl"],
        )
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|a| a["group"]["source.ip"] == "192.0.2.2")
        .map(|a| a["count"].as_u64().unwrap())
        .sum()
    };
    eventually(db, "failures of the brute force", brute, 8);
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    // Stopped at any moment, a run reads on from the last commit.
    ingest(db, &logs);
    assert_eq!(events(db), 14);
}

#[test]
fn a_brute_force_split_between_two_ingests_is_one_alert() {
    on_both("split", split_brute_force);
}

fn split_brute_force(dir: &Path, db: &Path) {
    // Three failures, then two more appended: five within five minutes.
    let auth = auth_log(dir, &failures("198.51.100.4", 0, 3));
    ingest(db, &auth);
    let brute = || alerts_of(db, "ssh-brute-force");
    assert!(brute().is_empty(), "three failures are not a brute force");
    assert!(
        !open(db).saved_state().unwrap().groups.is_empty(),
        "the open window is stored"
    );
    append(&auth, &failures("198.51.100.4", 3, 2));
    ingest(db, &auth);
    let alerts = brute();
    assert_eq!(alerts.len(), 1, "the five failures are one brute force");
    assert_eq!(alerts[0]["count"], 5, "{}", alerts[0]);
    let id = alerts[0]["id"].as_str().unwrap();
    let shown: serde_json::Value =
        serde_json::from_str(&ok(rampart(db, &["alerts", "show", id]))).unwrap();
    let events = shown["events"].as_array().unwrap();
    assert_eq!(events.len(), 5, "the first run's events come with it");
    // More of the same burst grows the same alert.
    append(&auth, &failures("198.51.100.4", 5, 4));
    ingest(db, &auth);
    let alerts = brute();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["id"], id);
    assert_eq!(alerts[0]["count"], 9);
}

#[test]
fn a_retro_hunt_finds_yesterdays_activity_with_todays_indicator_once() {
    let mut text = failures("203.0.113.9", 0, 6);
    text.push_str(&failures("198.51.100.7", 100, 2));
    on_both("retro", |dir, db| {
        retro_hunted(dir, db, &auth_log(dir, &text))
    });
}

fn retro_hunted(dir: &Path, db: &Path, auth: &Path) {
    let db = db.to_path_buf();
    ingest(&db, auth);
    let alerts = || stats(&db).alerts.iter().map(|(_, _, n)| n).sum::<u64>();
    assert_eq!(alerts(), 1, "the brute force, when ingested");
    // Today's feed lists an address that was only failing quietly.
    let feed = dir.join("feed.txt");
    std::fs::write(&feed, "198.51.100.7\n").unwrap();
    let retro_hunt = || {
        rampart(
            &db,
            &[
                "hunt",
                "--stored",
                "--intel",
                feed.to_str().unwrap(),
                "--format",
                "jsonl",
            ],
        )
    };
    // The built-in pack runs too: its brute force is found again, and is
    // already stored.
    let out = retro_hunt();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = ok(out);
    let printed: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rules: Vec<&str> = printed
        .iter()
        .map(|a| a["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["ioc-match"], "{stderr}");
    assert_eq!(printed[0]["count"], 2, "both failures, folded");
    assert_eq!(printed[0]["events"][0]["source"]["ip"], "198.51.100.7");
    assert!(
        stderr.contains("retro-hunt over 8 stored events") && stderr.contains("1 already stored"),
        "{stderr}"
    );
    assert_eq!(alerts(), 2, "the new alert is stored");
    // Again: nothing new.
    let out = retro_hunt();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(ok(out), "", "{stderr}");
    assert!(stderr.contains("0 new"), "{stderr}");
    assert_eq!(alerts(), 2);
}
