//! Seed 000's web application log rows (the project's fixture) in an
//! SQLite table `web_application`, as seed 000 kept them in SQL Server:
//! ids repeat and rows are out of order. Shared by the tests that read it
//! as a SQL source.

use std::path::Path;

/// Writes the table into the SQLite file `path`; how many rows it holds.
pub fn table(path: &Path) -> usize {
    let rows = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/seed0/web_application_logs.jsonl"),
    )
    .unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE web_application (log_id INTEGER, timestamp TEXT, user_id TEXT, ip_address TEXT,
             resource TEXT, http_method TEXT, response_code INTEGER, user_agent TEXT, query TEXT)",
    )
    .unwrap();
    for line in rows.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = |k: &str| r[k].as_str().map(str::to_string);
        conn.execute(
            "INSERT INTO web_application VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                r["log_id"].as_i64(),
                text("timestamp"),
                text("user_id"),
                text("ip_address"),
                text("resource"),
                text("http_method"),
                r["response_code"].as_i64(),
                text("user_agent"),
                text("query"),
            ],
        )
        .unwrap();
    }
    rows.lines().count()
}
