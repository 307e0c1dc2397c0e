//! Stored events: each with the fields searches filter on most as typed,
//! indexed columns, the whole event as its JSON, and its text (its
//! `message`, or the original line where it has none) in the full-text
//! index. An event's id is where it came from, its source and its place
//! among the source's events, so two identical lines stay two events and
//! storing the same event twice stores it once.

use rampart_event::{Event, ValueRef};
use rusqlite::{params, Transaction};

use crate::StoreError;

/// An event to store: its source, its place in it, and itself.
#[derive(Debug)]
pub struct NewEvent {
    /// The source (see `Store::source`).
    pub source: i64,
    /// Its place among the source's events (or unreadable lines), from 0.
    pub ordinal: u64,
    /// The event.
    pub event: Event,
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
    match event.get(name)? {
        ValueRef::Str("") => None,
        ValueRef::Str(s) => Some(s.to_owned()),
        ValueRef::Int(i) => Some(i.to_string()),
        ValueRef::Ip(ip) => Some(ip.to_string()),
        other => Some(other.to_string()),
    }
}

fn int(event: &Event, name: &str) -> Option<i64> {
    match event.get(name)? {
        ValueRef::Int(i) => Some(i),
        ValueRef::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Stores `events`; returns how many were new.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    events: &[NewEvent],
    stored: i64,
) -> Result<u64, StoreError> {
    let mut row = tx.prepare_cached(
        "INSERT INTO events (source, ordinal, time, stored, dataset, host, source_ip,
             destination_ip, user_name, event_code, severity, line, doc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (source, ordinal) DO NOTHING",
    )?;
    let mut search = tx.prepare_cached("INSERT INTO events_text (rowid, text) VALUES (?1, ?2)")?;
    let mut doc = Vec::new();
    let mut added = 0;
    for new in events {
        let e = &new.event;
        doc.clear();
        e.write_json(&mut doc);
        let doc = std::str::from_utf8(&doc).map_err(|e| StoreError(e.to_string()))?;
        let inserted = row.execute(params![
            new.source,
            new.ordinal as i64,
            e.timestamp.map(|t| t.as_microsecond()),
            stored,
            text(e, "event.dataset"),
            text(e, "host.name"),
            text(e, "source.ip"),
            text(e, "destination.ip"),
            text(e, "user.name"),
            text(e, "event.code"),
            int(e, "event.severity"),
            i64::try_from(e.origin.line).ok().filter(|l| *l > 0),
            doc,
        ])?;
        if inserted == 1 {
            let body = e.get_str("message").filter(|m| !m.is_empty());
            search.execute(params![
                tx.last_insert_rowid(),
                body.unwrap_or(e.original())
            ])?;
            added += 1;
        }
    }
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
