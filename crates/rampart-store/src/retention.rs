//! Retention and the store's own figures. Events are pruned by when they
//! were stored, not by their own time (seed 001's logs are dated 2023 and
//! would go at once), a bounded number per transaction so that readers
//! and a running ingest are never held up long; the file then gives the
//! freed pages back to the disk. The store's figures come from counts kept
//! per dataset and hour as events are stored and pruned, not from counting
//! millions of rows.

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::params;

use crate::destinations;
use crate::events::{count, hour_of};
use crate::facets::{self, Cell};

use crate::{file_of, Store, StoreError};

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
    /// Unreadable lines kept.
    pub dead: u64,
    /// The database's size in bytes (its log and its full-text index's
    /// file included).
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
            let rows: Vec<(i64, Option<i64>, Cell, Option<String>)> = tx
                .prepare_cached(
                    "SELECT id, time, coalesce(dataset, ''), coalesce(host, ''),
                         coalesce(level, ''), coalesce(protocol, ''), coalesce(threat, -1),
                         destination_ip
                     FROM events WHERE stored < ?1 LIMIT ?2",
                )?
                .query_map(params![cut, CHUNK], |r| {
                    let time = r.get(1)?;
                    let cell = (
                        hour_of(time),
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    );
                    Ok((r.get(0)?, time, cell, r.get(7)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut gone: HashMap<(String, i64), i64> = HashMap::new();
            let mut cells: HashMap<Cell, i64> = HashMap::new();
            let mut targets: HashMap<destinations::Key, i64> = HashMap::new();
            for (_, time, cell, destination) in &rows {
                *gone.entry((cell.1.clone(), hour_of(*time))).or_default() -= 1;
                *cells.entry(cell.clone()).or_default() -= 1;
                if let Some(ip) = destination {
                    let key = (cell.0, ip.clone(), cell.1.clone(), cell.2.clone());
                    *targets.entry(key).or_default() -= 1;
                }
            }
            count(&tx, &gone)?;
            facets::count(&tx, &cells)?;
            destinations::count(&tx, &targets)?;
            let ids: Vec<i64> = rows.into_iter().map(|(id, _, _, _)| id).collect();
            {
                let mut text =
                    tx.prepare_cached("DELETE FROM text.events_text WHERE rowid = ?1")?;
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
        for schema in ["main", "text"] {
            let mut vacuum = self
                .conn
                .prepare(&format!("PRAGMA {schema}.incremental_vacuum"))?;
            let mut steps = vacuum.query([])?;
            while steps.next()?.is_some() {}
        }
        self.checkpoint()?;
        pruned.freed = size.saturating_sub(self.file_bytes());
        Ok(pruned)
    }

    /// The database file's size, its log included.
    fn file_bytes(&self) -> u64 {
        let Some(path) = file_of(&self.conn) else {
            return 0;
        };
        ["", "-wal", "-text", "-text-wal"]
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
            "SELECT nullif(dataset, ''), sum(n) AS total FROM event_hours
             GROUP BY dataset ORDER BY total DESC, dataset",
        )?;
        let days = pairs(
            "SELECT date(hour / 24 * 86400, 'unixepoch') AS day, sum(n) FROM event_hours
             WHERE hour >= 0 GROUP BY day ORDER BY day DESC LIMIT 14",
        )?;
        let mut stmt = self.conn.prepare(
            "SELECT severity, status, count(*) FROM alerts GROUP BY severity, status
             ORDER BY severity DESC, status",
        )?;
        let alerts = stmt
            .query_map([], |r| {
                let level = rampart_detect::Level::from_rank(r.get(0)?);
                Ok((
                    level.as_str().to_owned(),
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u64,
                ))
            })?
            .collect::<Result<_, _>>()?;
        let dead: i64 = self
            .conn
            .query_row("SELECT count(*) FROM dead_letters", [], |r| r.get(0))?;
        Ok(Stats {
            events: datasets.iter().map(|(_, n)| n).sum(),
            dead: dead as u64,
            datasets,
            days,
            alerts,
            bytes: self.file_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Commit;
    use rampart_event::{Event, Origin};

    /// Counts by name.
    type Counts = Vec<(String, u64)>;

    /// Events per dataset and day, counted from the rows themselves.
    fn counted(store: &Store) -> (Counts, Counts) {
        let pairs = |sql: &str| -> Counts {
            let mut stmt = store.conn.prepare(sql).unwrap();
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })
                .unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        };
        (
            pairs("SELECT coalesce(dataset, '(none)'), count(*) AS n FROM events GROUP BY dataset ORDER BY n DESC, dataset"),
            pairs("SELECT date(time / 1000000, 'unixepoch') AS d, count(*) FROM events WHERE time IS NOT NULL GROUP BY d ORDER BY d DESC LIMIT 14"),
        )
    }

    #[test]
    fn the_kept_counts_agree_with_the_rows_through_stores_repeats_and_prunes() {
        let mut store = Store::in_memory().unwrap();
        let source = store.source(b"counts", "c.log").unwrap().id;
        let make = |i: u64| {
            let mut e = Event::new(Origin::new("c.log", i + 1), "x");
            // Three datasets (one missing), days spread backwards and one
            // event without a time.
            if i % 3 != 2 {
                e.set(
                    "event.dataset",
                    if i.is_multiple_of(3) {
                        "linux.auth"
                    } else {
                        "web.access"
                    },
                );
            }
            if i != 7 {
                e.timestamp =
                    Some(Timestamp::from_second(1_741_910_400 - (i as i64 % 20) * 86_400).unwrap());
            }
            e
        };
        for round in 0..2 {
            let mut commit = Commit::default();
            for i in 0..300 {
                commit.events.push(source, i, &make(i));
            }
            store.commit(&mut commit).unwrap();
            let stats = store.stats().unwrap();
            assert_eq!(
                (stats.datasets, stats.days),
                counted(&store),
                "round {round}"
            );
            assert_eq!(stats.events, 300, "a repeat counts nothing");
        }
        // Prune what was stored, then store part of it again.
        let later = Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(1))
            .unwrap();
        store.prune(later, true).unwrap();
        assert_eq!(store.stats().unwrap().events, 0);
        assert!(store.stats().unwrap().datasets.is_empty());
        let mut commit = Commit::default();
        for i in 300..400 {
            commit.events.push(source, i, &make(i));
        }
        store.commit(&mut commit).unwrap();
        let stats = store.stats().unwrap();
        assert_eq!((stats.datasets, stats.days), counted(&store));
        assert_eq!(stats.events, 100);
    }
}
