//! Retention and the store's own figures. Events are pruned by when they
//! were stored, not by their own time (seed 001's logs are dated 2023 and
//! would go at once), a bounded number per transaction so that readers
//! and a running ingest are never held up long; the file then gives the
//! freed pages back to the disk.

use jiff::Timestamp;
use rusqlite::params;

use crate::{Store, StoreError};

/// Rows deleted per transaction.
const CHUNK: i64 = 20_000;

/// What a prune removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Events removed.
    pub events: u64,
    /// Unreadable lines removed.
    pub dead: u64,
    /// Alerts removed (with their triage history).
    pub alerts: u64,
    /// Bytes the file shrank by.
    pub freed: u64,
}

/// What the store holds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stats {
    /// Events per dataset, most first.
    pub datasets: Vec<(String, u64)>,
    /// Events per day of their own time (UTC), the latest 14 days that have any.
    pub days: Vec<(String, u64)>,
    /// Alerts per (severity, status).
    pub alerts: Vec<(String, String, u64)>,
    /// Events in all.
    pub events: u64,
    /// The database file's size in bytes (its log included).
    pub bytes: u64,
}

impl Store {
    /// Removes what was stored before `before`: events and unreadable lines,
    /// and alerts too unless `events_only`.
    pub fn prune(&mut self, before: Timestamp, events_only: bool) -> Result<Pruned, StoreError> {
        let cut = before.as_microsecond();
        let size = self.file_bytes();
        let mut pruned = Pruned::default();
        loop {
            let tx = self.conn.transaction()?;
            let ids: Vec<i64> = tx
                .prepare_cached("SELECT id FROM events WHERE stored < ?1 LIMIT ?2")?
                .query_map(params![cut, CHUNK], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            {
                let mut text = tx.prepare_cached("DELETE FROM events_text WHERE rowid = ?1")?;
                let mut row = tx.prepare_cached("DELETE FROM events WHERE id = ?1")?;
                for id in &ids {
                    text.execute([id])?;
                    row.execute([id])?;
                }
            }
            tx.commit()?;
            pruned.events += ids.len() as u64;
            if (ids.len() as i64) < CHUNK {
                break;
            }
        }
        pruned.dead =
            self.conn
                .execute("DELETE FROM dead_letters WHERE stored < ?1", [cut])? as u64;
        if !events_only {
            let tx = self.conn.transaction()?;
            tx.execute(
                "DELETE FROM alert_history WHERE alert IN (SELECT id FROM alerts WHERE updated < ?1)",
                [cut],
            )?;
            pruned.alerts = tx.execute("DELETE FROM alerts WHERE updated < ?1", [cut])? as u64;
            tx.commit()?;
        }
        // The pragma frees one page per step.
        let mut vacuum = self.conn.prepare("PRAGMA incremental_vacuum")?;
        let mut steps = vacuum.query([])?;
        while steps.next()?.is_some() {}
        drop(steps);
        drop(vacuum);
        self.checkpoint()?;
        pruned.freed = size.saturating_sub(self.file_bytes());
        Ok(pruned)
    }

    /// The database file's size, its log included.
    fn file_bytes(&self) -> u64 {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else {
            return 0;
        };
        ["", "-wal"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(format!("{path}{suffix}")).ok())
            .map(|m| m.len())
            .sum()
    }

    /// What the store holds.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        let pairs = |sql: &str| -> Result<Vec<(String, u64)>, StoreError> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?
                        .unwrap_or_else(|| "(none)".into()),
                    r.get::<_, i64>(1)? as u64,
                ))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        let datasets = pairs(
            "SELECT dataset, count(*) AS n FROM events GROUP BY dataset ORDER BY n DESC, dataset",
        )?;
        let days = pairs(
            "SELECT date(time / 1000000, 'unixepoch') AS day, count(*) FROM events
             WHERE time IS NOT NULL GROUP BY day ORDER BY day DESC LIMIT 14",
        )?;
        let mut stmt = self.conn.prepare(
            "SELECT severity, status, count(*) FROM alerts GROUP BY severity, status
             ORDER BY severity DESC, status",
        )?;
        let alerts = stmt
            .query_map([], |r| {
                let level = crate::alerts::level_of(r.get(0)?);
                Ok((
                    level.as_str().to_owned(),
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u64,
                ))
            })?
            .collect::<Result<_, _>>()?;
        Ok(Stats {
            events: datasets.iter().map(|(_, n)| n).sum(),
            datasets,
            days,
            alerts,
            bytes: self.file_bytes(),
        })
    }
}
