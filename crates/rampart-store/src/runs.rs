//! The record of runs: what each ingest read, when, with which rules, and
//! what it stored.

use rusqlite::params;

use crate::{now_micros, Committed, Store, StoreError};

impl Store {
    /// Notes that `command` starts over `paths` with `rules`; returns the
    /// run's id.
    pub fn start_run(
        &self,
        command: &str,
        paths: &[String],
        rules: &[String],
    ) -> Result<i64, StoreError> {
        let json = |list: &[String]| serde_json::to_string(list).unwrap_or_default();
        self.conn.execute(
            "INSERT INTO runs (started, command, paths, rules) VALUES (?1, ?2, ?3, ?4)",
            params![now_micros(), command, json(paths), json(rules)],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Notes that run `id` is over, and what it stored.
    pub fn finish_run(&self, id: i64, stored: &Committed) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE runs SET finished = ?2, events = ?3, dead = ?4, alerts = ?5 WHERE id = ?1",
            params![
                id,
                now_micros(),
                stored.events as i64,
                stored.dead as i64,
                stored.alerts as i64
            ],
        )?;
        Ok(())
    }

    /// How many events are stored.
    pub fn event_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        Ok(n as u64)
    }
}
