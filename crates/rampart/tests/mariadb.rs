//! A MariaDB server (the project's script starts one with a folder and
//! port of its own) as seed 000 and seed 002 used SQL: a table of web
//! application rows read as a SQL source exactly once, their events and
//! the alerts they raise written into tables of the same server.
//!
//! MariaDB comes from the system's packages (`scripts/install-servers.sh`);
//! without it the test says it was skipped, unless
//! `RAMPART_REQUIRE_SERVERS` is set (CI), when it fails.

mod seed0;
mod servers;

use std::path::Path;
use std::process::Command;

use servers::Server;

use mysql::prelude::Queryable;

fn installed() -> bool {
    servers::available(
        "MariaDB",
        ["/usr/sbin/mariadbd", "/usr/bin/mariadbd"]
            .iter()
            .any(|p| Path::new(p).exists()),
    )
}

/// A client of `server`.
fn conn(server: &Server) -> mysql::Conn {
    mysql::Conn::new(
        mysql::Opts::from_url(&format!("mysql://rampart@127.0.0.1:{}/siem", server.port)).unwrap(),
    )
    .unwrap()
}

#[test]
fn seed_zero_rows_come_from_mariadb_once_and_their_alerts_go_back_into_it() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("mariadb.sh", dir.path());
    let mut conn = conn(&server);
    conn.query_drop(
        "CREATE TABLE web_application (log_id INT, timestamp DATETIME, user_id VARCHAR(64),
             ip_address VARCHAR(64), resource VARCHAR(255), http_method VARCHAR(10),
             response_code INT, user_agent VARCHAR(255), query TEXT)",
    )
    .unwrap();
    let rows = seed0::rows();
    for row in &rows {
        conn.exec_drop(
            "INSERT INTO web_application VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row.clone(),
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
    database: mysql://rampart@127.0.0.1:{port}/siem
    table: web_application
    order_by: log_id
    follow: false
sinks:
  db:
    type: store
    path: {db}
  warehouse:
    type: sql
    database: mariadb://rampart@127.0.0.1:{port}/siem
    table: siem_alerts
    events_table: siem_events
    take: all
",
            port = server.port,
            db = db.display()
        ),
    )
    .unwrap();
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .env_remove("RAMPART_DB")
            .args(["run", "--no-db", "-q", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let stored = || {
        let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args([
                "--db",
                db.to_str().unwrap(),
                "events",
                "--query",
                "event.dataset=json",
            ])
            .args(["--limit", "1000", "--format", "jsonl"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().lines().count()
    };
    run();
    assert_eq!(stored(), n);
    let alerts: Vec<(String, i64)> = conn
        .query("SELECT rule_id, count FROM siem_alerts ORDER BY id")
        .unwrap();
    assert!(!alerts.is_empty(), "seed 000's rows raise alerts");
    run();
    assert_eq!(stored(), n, "nothing is read twice");
    let again: Vec<(String, i64)> = conn
        .query("SELECT rule_id, count FROM siem_alerts ORDER BY id")
        .unwrap();
    assert_eq!(again, alerts, "and no alert is added or changed");
    let events: Vec<(String, Option<String>)> =
        conn.query("SELECT id, source_ip FROM siem_events").unwrap();
    assert_eq!(events.len(), n, "each row's event once in the events table");
    assert!(events.iter().all(|(_, ip)| ip.is_some()));
}
