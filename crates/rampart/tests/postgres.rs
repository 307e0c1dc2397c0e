//! A SQL table source over a real PostgreSQL server, started by the
//! project's script with a folder and port of its own: seed 000's web
//! application rows (ids repeating, rows out of order) each arrive once,
//! a row added late with a lower id is taken, and nothing is taken twice.
//!
//! PostgreSQL comes from the system's packages (`scripts/install-servers.sh`);
//! without it the test says it was skipped, unless
//! `RAMPART_REQUIRE_SERVERS` is set (CI), when it fails.

mod fed;
mod seed0;
mod servers;

use std::process::Command;

use servers::Server;

fn installed() -> bool {
    servers::available(
        "PostgreSQL",
        std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|mut d| d.next().is_some()),
    )
}

/// A client of `server`.
fn client(server: &Server) -> postgres::Client {
    postgres::Client::connect(
        &format!(
            "host=127.0.0.1 port={} user=rampart dbname=postgres",
            server.port
        ),
        postgres::NoTls,
    )
    .unwrap()
}

fn rampart(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .env_remove("RAMPART_DB")
        .env_remove("RAMPART_CONFIG")
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

#[test]
fn seed_zero_rows_in_postgres_each_arrive_once() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("postgres.sh", dir.path());
    let mut client = client(&server);
    client
        .batch_execute(
            "CREATE TABLE web_application (log_id INTEGER, timestamp TIMESTAMP, user_id TEXT,
                 ip_address TEXT, resource TEXT, http_method TEXT, response_code INTEGER,
                 user_agent TEXT, query TEXT)",
        )
        .unwrap();
    let rows = seed0::rows();
    for r in &rows {
        let int = |v: Option<i64>| v.map(|v| v as i32);
        client
            .execute(
                "INSERT INTO web_application VALUES ($1, $2::text::timestamp, $3, $4, $5, $6, $7, $8, $9)",
                &[&int(r.0), &r.1, &r.2, &r.3, &r.4, &r.5, &int(r.6), &r.7, &r.8],
            )
            .unwrap();
    }
    let n = rows.len();
    let db = dir.path().join("siem.db");
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        format!(
            "sources:
  webapp:
    type: sql
    database: postgres://rampart@127.0.0.1:{}/postgres
    table: web_application
    order_by: log_id
    look_back: 30
    follow: false
sinks:
  db:
    type: store
    path: {}
",
            server.port,
            db.display()
        ),
    )
    .unwrap();
    let run = || rampart(&["run", "--no-db", "-q", "--config", config.to_str().unwrap()]);
    let stored = || {
        rampart(&[
            "--db",
            db.to_str().unwrap(),
            "events",
            "--query",
            "event.dataset=json",
            "--limit",
            "1000",
            "--format",
            "jsonl",
        ])
        .lines()
        .count()
    };
    run();
    assert_eq!(stored(), n);
    run();
    assert_eq!(stored(), n);
    client
        .batch_execute(
            "INSERT INTO web_application VALUES (40, '2025-06-22 10:00:00', NULL, '203.0.113.99', '/login', 'POST', 401, 'curl/8', 'late')",
        )
        .unwrap();
    run();
    assert_eq!(stored(), n + 1);
    let late = rampart(&[
        "--db",
        db.to_str().unwrap(),
        "events",
        "--query",
        "source.ip=203.0.113.99",
        "--format",
        "jsonl",
    ]);
    let event: serde_json::Value = serde_json::from_str(late.lines().next().unwrap()).unwrap();
    assert_eq!(event["url"]["original"], "/login");
    assert_eq!(event["http"]["response"]["status_code"], 401);
}

#[test]
fn alerts_are_upserted_and_events_inserted_once_into_postgres_tables() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("postgres.sh", dir.path());
    let config = dir.path().join("pipeline.yml");
    std::fs::write(
        &config,
        format!(
            "sources:
  piped:
    type: stdin
sinks:
  warehouse:
    type: sql
    database: postgres://rampart@127.0.0.1:{}/postgres
    table: siem_alerts
    take: all
",
            server.port
        ),
    )
    .unwrap();
    // Eight failed logins from one address: a brute force that opens at
    // the fifth and closes at the end with its count.
    let lines: String = (0..8)
        .map(|i| {
            format!(
                "Mar 14 03:00:{:02} web01 sshd[9]: Failed password for root from 198.51.100.23 port {} ssh2\n",
                10 + i,
                40000 + i
            )
        })
        .collect();
    // The same input twice: the second run adds no event and no alert.
    for _ in 0..2 {
        fed::run_fed(&config, lines.as_bytes());
    }
    let mut client = client(&server);
    let rows = client
        .query(
            "SELECT rule_id, severity, count, source_ip, doc->>'title' FROM siem_alerts",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1, "one row, updated when the burst closed");
    let row = &rows[0];
    assert_eq!(row.get::<_, String>(0), "ssh-brute-force");
    assert_eq!(row.get::<_, String>(1), "high");
    assert_eq!(row.get::<_, i64>(2), 8);
    assert_eq!(
        row.get::<_, Option<String>>(3).as_deref(),
        Some("198.51.100.23")
    );
    assert_eq!(row.get::<_, String>(4), "SSH brute force");
    let events = client
        .query(
            "SELECT source_ip, dataset, doc->'event'->>'original' FROM rampart_events",
            &[],
        )
        .unwrap();
    assert_eq!(events.len(), 8);
    assert!(events
        .iter()
        .all(|r| r.get::<_, Option<String>>(0).as_deref() == Some("198.51.100.23")));
    assert!(events
        .iter()
        .all(|r| r.get::<_, Option<String>>(1).as_deref() == Some("linux.auth")));
}
