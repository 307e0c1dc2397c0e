//! A record of every statement sent and every row it gave, as JSON lines
//! in the file `RAMPART_CLICKHOUSE_TRANSCRIPT` names (nothing is recorded
//! when it is unset). `scripts/clickhouse-current.py` runs a transcript
//! again on today's ClickHouse engine (chDB) and compares the rows, so the
//! SQL written for 18.16 is checked against a current release too.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;

/// Where statements are recorded, if anywhere.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    file: Option<Arc<Mutex<File>>>,
}

impl Transcript {
    /// The transcript the environment asks for.
    pub fn from_env() -> Transcript {
        let file = std::env::var_os("RAMPART_CLICKHOUSE_TRANSCRIPT")
            .and_then(|path| OpenOptions::new().create(true).append(true).open(path).ok());
        Transcript {
            file: file.map(|f| Arc::new(Mutex::new(f))),
        }
    }

    /// Whether statements are recorded.
    pub fn on(&self) -> bool {
        self.file.is_some()
    }

    fn write(&self, record: serde_json::Value) {
        if let Some(file) = &self.file {
            // One write of the whole line: transcripts of several clients
            // (a test's threads) share the file without mixing lines.
            let line = format!("{record}\n");
            if let Ok(mut file) = file.lock() {
                let _ = file.write_all(line.as_bytes());
            }
        }
    }

    /// A statement run in `database` (none: outside any).
    pub fn execute(&self, database: Option<&str>, sql: &str) {
        self.write(json!({"database": database, "execute": sql}));
    }

    /// Rows inserted into `table`.
    pub fn insert(&self, database: &str, table: &str, rows: &[u8]) {
        let rows = String::from_utf8_lossy(rows);
        self.write(json!({"database": database, "insert": table, "rows": rows}));
    }

    /// A query and the rows it gave (all of them when `whole`).
    pub fn select(&self, database: &str, sql: &str, rows: &[String], whole: bool) {
        self.write(json!({"database": database, "select": sql, "rows": rows, "whole": whole}));
    }
}
