//! ClickHouse as rampart's store when one machine's disk is not enough:
//! events partitioned by day, alerts and their triage, written in batches
//! over the HTTP interface and read by `rampart alerts`, `events`,
//! `export`, `stats`, `prune`, `dashboard` and `serve` through the same
//! [`Backend`] as the SQLite store.
//!
//! It speaks the SQL of ClickHouse 18.16 (the Debian package) that today's
//! releases still run: `ReplacingMergeTree` tables for re-sends that must
//! not count twice (18.16 has no insert de-duplication on tables that are
//! not replicated), each event counted once by its id until they merge,
//! `argMaxIf` for triage, `ANY LEFT JOIN ... USING`, arrays with lambdas
//! for fields that are not columns, and `ALTER TABLE ... DROP PARTITION`
//! for retention (TTL came in 19.6).

mod alerts;
mod client;
mod intake;
mod overview;
mod schema;
mod search;
mod suppressions;
mod transcript;
mod write;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rampart_store::{
    AlertFilter, Backend, Beside, Board, Choices, EventQuery, Extent, Figures, OverviewFilter,
    Pruned, Slice, Stats, Step, StoreError, StoredAlert, StoredEvent, StoredSuppression, Triage,
    Triaged,
};
use serde::Deserialize;

pub use write::{alert_row, event_row, Rows};

use client::{quote, Client};

/// Whether a `--db` value names a ClickHouse server rather than a file.
pub fn is_address(db: &str) -> bool {
    db.starts_with("clickhouse://")
}

/// A ClickHouse database holding rampart's tables.
#[derive(Debug, Clone)]
pub struct ClickHouse {
    client: Client,
    /// What `ingest` keeps in memory of its bookkeeping, once read.
    ledger: Option<intake::Ledger>,
}

/// What a store of rows added.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Event rows sent.
    pub events: u64,
    /// Alert rows sent.
    pub alerts: u64,
    /// Bytes sent.
    pub bytes: u64,
}

/// An event row as read.
#[derive(Deserialize)]
struct EventRow {
    id: i64,
    time: i64,
    timed: u8,
    doc: String,
}

impl EventRow {
    fn stored(self) -> StoredEvent {
        StoredEvent {
            id: self.id,
            time: (self.timed == 1)
                .then(|| Timestamp::from_microsecond(self.time).ok())
                .flatten(),
            doc: self.doc,
        }
    }
}

/// Events a page of a search reads.
const PAGE: u64 = 50_000;

/// Events whose JSON one query reads by id (the query's text stays under
/// ClickHouse's 256 KiB).
const BY_KEY: usize = 10_000;

/// An event's place in the table's order.
#[derive(Deserialize)]
struct Key {
    id: i64,
    time: i64,
    timed: u8,
}

/// An event's JSON.
#[derive(Deserialize)]
struct Doc {
    id: i64,
    doc: String,
}

/// A value and how many.
#[derive(Deserialize)]
pub(crate) struct Count {
    v: String,
    n: u64,
}

impl ClickHouse {
    /// Connects to `url` (`clickhouse://[user[:password]@]host[:port][/database]`),
    /// creating the database and its tables if needed.
    pub fn open(url: &str) -> Result<ClickHouse, StoreError> {
        let client = Client::new(url)?;
        schema::migrate(&client)?;
        Ok(ClickHouse {
            client,
            ledger: None,
        })
    }

    /// The server and database, for messages.
    pub fn describe(&self) -> String {
        self.client.describe()
    }

    /// Sends `rows`: the events, then the alerts (an alert never points at
    /// an event not yet stored). Sent again, they are stored once.
    pub fn store(&self, rows: &Rows) -> Result<Sent, StoreError> {
        let (events, alerts) = rows.bodies();
        self.store_lines(events, alerts)?;
        let (n_events, n_alerts) = rows.counts();
        Ok(Sent {
            events: n_events,
            alerts: n_alerts,
            bytes: (events.len() + alerts.len()) as u64,
        })
    }

    /// Sends rows made by [`event_row`] and [`alert_row`], one per line:
    /// the events, then the alerts.
    pub fn store_lines(&self, events: &[u8], alerts: &[u8]) -> Result<(), StoreError> {
        self.client.insert("events", events)?;
        self.client.insert("alerts", alerts)
    }

    /// Drops the days of events before `before`'s day (whole partitions,
    /// at once), the unreadable lines stored before `before`, and unless
    /// `events_only` the alerts whose time is before `before`, with their
    /// triage.
    pub fn prune(&self, before: Timestamp, events_only: bool) -> Result<Pruned, StoreError> {
        #[derive(Deserialize)]
        struct Part {
            partition_id: String,
        }
        // A day partition's id is its date as YYYYMMDD on every release
        // (18.16 names the partition of day 0 `0000-00-00`, today's
        // `1970-01-01`).
        let day = before
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .strftime("%Y%m%d")
            .to_string();
        let database = quote(&self.client.database);
        let bytes_before = self.bytes()?;
        let parts: Vec<Part> = self.client.rows(&format!(
            "SELECT DISTINCT partition_id FROM system.parts
             WHERE database = {database} AND table = 'events' AND active AND partition_id < {}
             ORDER BY partition_id",
            quote(&day)
        ))?;
        let mut pruned = Pruned::default();
        if !parts.is_empty() {
            let ids: Vec<String> = parts.iter().map(|p| quote(&p.partition_id)).collect();
            pruned.events = self.count(&format!(
                "SELECT uniqExact(id) AS n FROM events WHERE _partition_id IN ({})",
                ids.join(", ")
            ))?;
        }
        for part in &parts {
            self.client.execute(&format!(
                "ALTER TABLE events DROP PARTITION ID {}",
                quote(&part.partition_id)
            ))?;
        }
        // Unreadable lines go by when they were stored, as in SQLite.
        let cut = before.as_microsecond();
        pruned.dead = self.count(&format!(
            "SELECT uniqExact(id) AS n FROM dead_letters WHERE stored < {cut}"
        ))?;
        if pruned.dead > 0 {
            self.client.execute(&format!(
                "ALTER TABLE dead_letters DELETE WHERE stored < {cut}"
            ))?;
        }
        if !events_only {
            let old = format!("timed = 1 AND time < {cut}");
            pruned.alerts = self.count(&format!(
                "SELECT count() AS n FROM alerts FINAL WHERE {old}"
            ))?;
            if pruned.alerts > 0 {
                self.client.execute(&format!(
                    "ALTER TABLE alert_history DELETE WHERE alert IN
                     (SELECT id FROM alerts WHERE {old})"
                ))?;
                self.client
                    .execute(&format!("ALTER TABLE alerts DELETE WHERE {old}"))?;
            }
        }
        if pruned.dead > 0 || pruned.alerts > 0 {
            self.deleted()?;
        }
        pruned.freed = bytes_before.saturating_sub(self.bytes()?);
        Ok(pruned)
    }

    /// Waits until this database's deletes have been applied: a delete is
    /// a mutation, which a server before 22.8 (18.16 among them) applies
    /// in the background after the statement returns, so without the wait
    /// a prune could report rows gone that a query still finds.
    fn deleted(&self) -> Result<(), StoreError> {
        const PATIENCE: Duration = Duration::from_secs(120);
        let sql = format!(
            "SELECT count() AS n FROM system.mutations WHERE database = {} AND NOT is_done",
            quote(&self.client.database)
        );
        let started = Instant::now();
        loop {
            let pending = self.count(&sql)?;
            if pending == 0 {
                return Ok(());
            }
            if started.elapsed() > PATIENCE {
                return Err(StoreError(format!(
                    "{pending} delete(s) still running on ClickHouse after {} s; \
                     the server finishes them in the background",
                    PATIENCE.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Now, in microseconds, or just after the latest time the `max(...)
    /// AS n` of `sql` finds: a triage step or a row's version comes after
    /// every one before it even when the clock does not.
    pub(crate) fn after_latest(&self, sql: &str) -> Result<i64, StoreError> {
        #[derive(Deserialize)]
        struct Latest {
            n: i64,
        }
        let latest = self.client.rows::<Latest>(sql)?.first().map_or(0, |l| l.n);
        Ok(Timestamp::now()
            .as_microsecond()
            .max(latest.saturating_add(1)))
    }

    /// The first column `n` of the one row `sql` gives.
    pub(crate) fn count(&self, sql: &str) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct One {
            n: u64,
        }
        Ok(self.client.rows::<One>(sql)?.first().map_or(0, |o| o.n))
    }

    /// The database's bytes on disk.
    fn bytes(&self) -> Result<u64, StoreError> {
        self.count(&format!(
            "SELECT sum(bytes_on_disk) AS n FROM system.parts WHERE database = {} AND active",
            quote(&self.client.database)
        ))
    }
}

impl Backend for ClickHouse {
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError> {
        self.list_alerts(filter)
    }

    fn alert(&self, id: &str) -> Result<Option<StoredAlert>, StoreError> {
        self.one_alert(id)
    }

    fn history(&self, id: &str) -> Result<Vec<Step>, StoreError> {
        self.steps(id)
    }

    fn triage_beside(
        &mut self,
        id: &str,
        step: &Triage,
        who: (&str, Option<&str>),
        beside: Beside,
    ) -> Result<Triaged, StoreError> {
        self.take_step(id, step, who, beside)
    }

    fn suppressions(&self) -> Result<Vec<StoredSuppression>, StoreError> {
        self.suppressions_kept()
    }

    fn remove_suppression(&mut self, id: i64) -> Result<bool, StoreError> {
        self.unsuppress(id)
    }

    fn event(&self, id: i64) -> Result<Option<StoredEvent>, StoreError> {
        let rows: Vec<EventRow> = self.client.rows(&format!(
            "SELECT id, time, timed, doc FROM events WHERE id = {id} LIMIT 1"
        ))?;
        Ok(rows.into_iter().next().map(EventRow::stored))
    }

    fn each_event(
        &self,
        query: &EventQuery,
        take: &mut dyn FnMut(StoredEvent) -> bool,
    ) -> Result<(), StoreError> {
        let condition = search::condition(query)?;
        let mut left = query.limit.unwrap_or(u64::MAX);
        let mut last: Option<Key> = None;
        // A page of the events' keys in order, each id once, then their
        // JSON by key (through the table's sort key): sorting the JSON of
        // every event found would take the memory of all of them.
        while left > 0 {
            let page = left.min(PAGE);
            let after = match (&last, query.as_read) {
                (None, _) => "1".to_owned(),
                (Some(k), true) => format!("id > {}", k.id),
                (Some(k), false) => {
                    format!("(timed, time, id) < ({}, {}, {})", k.timed, k.time, k.id)
                }
            };
            let order = if query.as_read {
                "id"
            } else {
                "timed DESC, time DESC, id DESC"
            };
            let keys: Vec<Key> = self.client.rows(&format!(
                "SELECT id, time, timed FROM events WHERE ({condition}) AND {after}
                 ORDER BY {order} LIMIT 1 BY id LIMIT {page}"
            ))?;
            let mut docs = HashMap::with_capacity(keys.len());
            for chunk in keys.chunks(BY_KEY) {
                // The chunk's times bound the read to its part of the table's
                // sort order; the ids pick the events within.
                let low = chunk.iter().map(|k| k.time).min().unwrap_or(0);
                let high = chunk.iter().map(|k| k.time).max().unwrap_or(0);
                let ids: Vec<String> = chunk.iter().map(|k| k.id.to_string()).collect();
                self.client.each(
                    &format!(
                        "SELECT id, any(doc) AS doc FROM events
                         WHERE time >= {low} AND time <= {high} AND id IN ({})
                         GROUP BY id ORDER BY id",
                        ids.join(", ")
                    ),
                    |d: Doc| {
                        docs.insert(d.id, d.doc);
                        true
                    },
                )?;
            }
            for k in &keys {
                let doc = docs.remove(&k.id).unwrap_or_default();
                let event = StoredEvent {
                    id: k.id,
                    time: (k.timed == 1)
                        .then(|| Timestamp::from_microsecond(k.time).ok())
                        .flatten(),
                    doc,
                };
                if !take(event) {
                    return Ok(());
                }
            }
            if (keys.len() as u64) < page {
                break;
            }
            left -= keys.len() as u64;
            last = keys.into_iter().last();
        }
        Ok(())
    }

    fn count_by(
        &self,
        query: &EventQuery,
        field: &str,
        top: u64,
    ) -> Result<Vec<(Option<String>, u64)>, StoreError> {
        let condition = search::condition(query)?;
        let value = search::value_of(field);
        let rows: Vec<Count> = self.client.rows(&format!(
            "SELECT {value} AS v, uniqExact(id) AS n FROM events WHERE {condition}
             GROUP BY v ORDER BY n DESC, v LIMIT {top}"
        ))?;
        Ok(rows
            .into_iter()
            .map(|c| (Some(c.v).filter(|v| !v.is_empty()), c.n))
            .collect())
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        let pairs = |sql: &str| -> Result<Vec<(String, u64)>, StoreError> {
            let rows: Vec<Count> = self.client.rows(sql)?;
            Ok(rows
                .into_iter()
                .map(|c| {
                    let v = if c.v.is_empty() { "(none)".into() } else { c.v };
                    (v, c.n)
                })
                .collect())
        };
        let datasets = pairs(
            "SELECT dataset AS v, uniqExact(id) AS n FROM events
             GROUP BY v ORDER BY n DESC, v",
        )?;
        let days = pairs(
            "SELECT toString(day) AS v, uniqExact(id) AS n FROM events
             WHERE timed = 1 AND time >= 0 GROUP BY v ORDER BY v DESC LIMIT 14",
        )?;
        #[derive(Deserialize)]
        struct Cell {
            severity: u8,
            status: String,
            n: u64,
        }
        let cells: Vec<Cell> = self.client.rows(&format!(
            "SELECT severity, if(status = '', 'open', status) AS status, count() AS n
             FROM {} GROUP BY severity, status ORDER BY severity DESC, status",
            alerts::TRIAGED
        ))?;
        let bytes = self.bytes()?;
        Ok(Stats {
            events: datasets.iter().map(|(_, n)| n).sum(),
            dead: self.count("SELECT uniqExact(id) AS n FROM dead_letters")?,
            datasets,
            days,
            alerts: cells
                .into_iter()
                .map(|c| {
                    let level = rampart_detect::Level::from_rank(c.severity.into());
                    (level.as_str().to_owned(), c.status, c.n)
                })
                .collect(),
            bytes,
        })
    }

    fn prune(&mut self, before: Timestamp, events_only: bool) -> Result<Pruned, StoreError> {
        ClickHouse::prune(self, before, events_only)
    }

    fn extent(&self) -> Result<Extent, StoreError> {
        self.reach()
    }

    fn board(&self, slice: &Slice) -> Result<Board, StoreError> {
        self.slice_board(slice)
    }

    fn choices(&self, since: Timestamp, until: Timestamp) -> Result<Choices, StoreError> {
        self.slice_choices(since, until)
    }

    fn figures(&self, filter: &OverviewFilter, top: usize) -> Result<Figures, StoreError> {
        self.filter_figures(filter, top)
    }

    /// ClickHouse keeps no such number: readers read again each time.
    fn data_version(&self) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }

    fn alerts_by_rule(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.rule_counts(since, until)
    }

    /// ClickHouse reads as it goes: a page's panels may see rows stored
    /// between their queries.
    fn view(
        &self,
        read: &mut dyn FnMut(&dyn Backend) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        read(self)
    }
}
