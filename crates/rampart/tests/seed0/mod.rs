//! Seed 000's web application log rows (the project's fixture) in an
//! SQLite table `web_application`, as seed 000 kept them in SQL Server:
//! ids repeat and rows are out of order. Shared by the tests that read it
//! as a SQL source; `rows` gives them for other databases' tables.

#![allow(dead_code)]

use std::path::Path;

/// One row: id, time, user, address, resource, method, status, user
/// agent, query (as SQL takes them: absent values are NULL).
pub type Row = (
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// The fixture's rows, in its order.
pub fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/seed0/web_application_logs.jsonl"),
    )
    .unwrap();
    text.lines()
        .map(|line| {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = |k: &str| r[k].as_str().map(str::to_string);
            (
                r["log_id"].as_i64(),
                text("timestamp"),
                text("user_id"),
                text("ip_address"),
                text("resource"),
                text("http_method"),
                r["response_code"].as_i64(),
                text("user_agent"),
                text("query"),
            )
        })
        .collect()
}

/// Writes the table into the SQLite file `path`; how many rows it holds.
pub fn table(path: &Path) -> usize {
    let rows = rows();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE web_application (log_id INTEGER, timestamp TEXT, user_id TEXT, ip_address TEXT,
             resource TEXT, http_method TEXT, response_code INTEGER, user_agent TEXT, query TEXT)",
    )
    .unwrap();
    for row in &rows {
        conn.execute(
            "INSERT INTO web_application VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            row.clone(),
        )
        .unwrap();
    }
    rows.len()
}
