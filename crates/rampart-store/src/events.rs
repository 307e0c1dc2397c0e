//! Stored events: each with the fields searches filter on most as typed,
//! indexed columns, the whole event as its JSON, and its text (its
//! `message`, or the original line where it has none) in the full-text
//! index. An event's id is where it came from, its source and its place
//! among the source's events (see [`PER_SOURCE`]), so two identical lines
//! stay two events and storing the same event twice stores it once.

use std::collections::HashMap;

use rampart_event::{Event, ValueRef};
use rusqlite::{params, Transaction};

use crate::StoreError;

/// Events a source may hold: an event's id is its source's id times this
/// plus its place in the source.
pub const PER_SOURCE: i64 = 1 << 40;

/// An event ready to store: its id, the columns searches filter on, its
/// JSON and its text for the full-text index. Made on the engine's side,
/// so that the thread writing to the database only writes.
#[derive(Debug)]
pub struct NewEvent {
    id: i64,
    time: Option<i64>,
    dataset: Option<String>,
    host: Option<String>,
    source_ip: Option<String>,
    destination_ip: Option<String>,
    user_name: Option<String>,
    event_code: Option<String>,
    severity: Option<i64>,
    line: Option<i64>,
    doc: String,
    text: String,
}

impl NewEvent {
    /// `event`, the `ordinal`-th of `source` (from 0).
    pub fn new(source: i64, ordinal: u64, event: &Event) -> NewEvent {
        let mut doc = Vec::with_capacity(1024);
        event.write_json(&mut doc);
        let body = event.get_str("message").filter(|m| !m.is_empty());
        NewEvent {
            id: source * PER_SOURCE + ordinal as i64,
            time: event.timestamp.map(|t| t.as_microsecond()),
            dataset: text(event, "event.dataset"),
            host: text(event, "host.name"),
            source_ip: text(event, "source.ip"),
            destination_ip: text(event, "destination.ip"),
            user_name: text(event, "user.name"),
            event_code: text(event, "event.code"),
            severity: int(event, "event.severity"),
            line: i64::try_from(event.origin.line).ok().filter(|l| *l > 0),
            doc: String::from_utf8(doc)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            text: body.unwrap_or(event.original()).to_owned(),
        }
    }
}

/// A line nothing could read, kept with its source and place.
#[derive(Debug, Clone)]
pub struct NewDead {
    /// The source (see `Store::source`).
    pub source: i64,
    /// Its place among the source's events (or unreadable lines), from 0.
    pub ordinal: u64,
    /// The line it starts on.
    pub line: u64,
    /// Why nothing could read it.
    pub reason: String,
    /// Its text.
    pub text: String,
}

/// The text of a field as a column holds it.
fn text(event: &Event, name: &str) -> Option<String> {
    Some(event.get(name)?.to_string()).filter(|t| !t.is_empty())
}

fn int(event: &Event, name: &str) -> Option<i64> {
    match event.get(name)? {
        ValueRef::Int(i) => Some(i),
        ValueRef::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Microseconds in an hour.
pub(crate) const HOUR: i64 = 3_600_000_000;

/// The hour (since the epoch) of a time in microseconds; -1 for none.
pub(crate) fn hour_of(time: Option<i64>) -> i64 {
    time.map_or(-1, |t| t.div_euclid(HOUR))
}

/// Adds `delta` events per (dataset, hour) to the counts `stats` and
/// timelines read, so that they need not count millions of rows.
pub(crate) fn count(
    tx: &Transaction<'_>,
    delta: &HashMap<(String, i64), i64>,
) -> Result<(), StoreError> {
    let mut add = tx.prepare_cached(
        "INSERT INTO event_hours (dataset, hour, n) VALUES (?1, ?2, ?3)
         ON CONFLICT (dataset, hour) DO UPDATE SET n = n + excluded.n",
    )?;
    for ((dataset, hour), n) in delta {
        add.execute(params![dataset, hour, n])?;
    }
    tx.execute("DELETE FROM event_hours WHERE n <= 0", [])?;
    Ok(())
}

/// Stores `events`; returns how many were new.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    events: &[NewEvent],
    stored: i64,
) -> Result<u64, StoreError> {
    let mut counts: HashMap<(String, i64), i64> = HashMap::new();
    let mut row = tx.prepare_cached(
        "INSERT INTO events (id, time, stored, dataset, host, source_ip, destination_ip,
             user_name, event_code, severity, line, doc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO NOTHING",
    )?;
    let mut search = tx.prepare_cached("INSERT INTO events_text (rowid, text) VALUES (?1, ?2)")?;
    let mut added = 0;
    for e in events {
        let inserted = row.execute(params![
            e.id,
            e.time,
            stored,
            e.dataset,
            e.host,
            e.source_ip,
            e.destination_ip,
            e.user_name,
            e.event_code,
            e.severity,
            e.line,
            e.doc,
        ])?;
        if inserted == 1 {
            search.execute(params![e.id, e.text])?;
            added += 1;
            let key = (e.dataset.clone().unwrap_or_default(), hour_of(e.time));
            *counts.entry(key).or_default() += 1;
        }
    }
    count(tx, &counts)?;
    Ok(added)
}

/// Keeps unreadable lines; returns how many were new.
pub(crate) fn insert_dead(
    tx: &Transaction<'_>,
    dead: &[NewDead],
    stored: i64,
) -> Result<u64, StoreError> {
    let mut row = tx.prepare_cached(
        "INSERT INTO dead_letters (source, ordinal, line, reason, text, stored)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (source, ordinal) DO NOTHING",
    )?;
    let mut added = 0;
    for d in dead {
        added += row.execute(params![
            d.source,
            d.ordinal as i64,
            d.line as i64,
            d.reason,
            d.text,
            stored
        ])? as u64;
    }
    Ok(added)
}
