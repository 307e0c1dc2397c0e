//! Stored events: each with the fields searches filter on most as typed,
//! indexed columns, the whole event as its JSON, and its text (its
//! `message`, or the original line where it has none) in the full-text
//! index. An event's id is where it came from, its source and its place
//! among the source's events (see [`PER_SOURCE`]), so two identical lines
//! stay two events and storing the same event twice stores it once.

use std::collections::HashMap;
use std::io::Write as _;

use rampart_event::{Event, ValueRef};
use rusqlite::types::{ToSqlOutput, ValueRef as SqlValue};
use rusqlite::{params, Transaction};

use crate::destinations;
use crate::facets::{self, Facets, BENIGN};
use crate::StoreError;

/// Events a source may hold: an event's id is its source's id times this
/// plus its place in the source.
pub const PER_SOURCE: i64 = 1 << 40;

/// A piece of [`NewEvents`]'s text: start and end; none when `NONE`.
type Span = (u32, u32);

const NONE: Span = (u32::MAX, u32::MAX);

/// The fields kept as text columns of each event (indexed, counted from
/// the column alone), in the order of the table.
pub const TEXT_COLUMNS: [&str; 6] = [
    "event.dataset",
    "host.name",
    "source.ip",
    "destination.ip",
    "user.name",
    "event.code",
];

/// One event ready to store.
#[derive(Debug)]
struct Row {
    id: i64,
    time: Option<i64>,
    severity: Option<i64>,
    line: Option<i64>,
    columns: [Span; 6],
    /// The severity label and protocol (see [`Facets`]).
    facets: [Span; 2],
    threat: Option<i64>,
    doc: Span,
    text: Span,
}

/// Events ready to store: their ids, the columns searches filter on, their
/// JSON and their text for the full-text index, all of it written into
/// one buffer. Made on the engine's side, so that the thread writing to
/// the database only writes; cleared and filled again commit after commit,
/// so that storing events allocates nothing per event, and nothing is
/// freed by a thread other than the one that made it.
#[derive(Debug, Default)]
pub struct NewEvents {
    rows: Vec<Row>,
    bytes: Vec<u8>,
}

impl NewEvents {
    /// Adds `event`, the `ordinal`-th of `source` (from 0).
    pub fn push(&mut self, source: i64, ordinal: u64, event: &Event) {
        let mut columns = [NONE; 6];
        for (span, name) in columns.iter_mut().zip(TEXT_COLUMNS) {
            if let Some(value) = event.get(name) {
                *span = self.write(|out| {
                    let _ = write!(out, "{value}");
                });
            }
        }
        let Facets {
            level,
            protocol,
            threat,
        } = Facets::of(event);
        let facets = [level, protocol].map(|text| {
            self.write(|out| out.extend_from_slice(text.unwrap_or_default().as_bytes()))
        });
        let doc = self.write(|out| event.write_json(out));
        let body = event.get_str("message").filter(|m| !m.is_empty());
        let text =
            self.write(|out| out.extend_from_slice(body.unwrap_or(event.original()).as_bytes()));
        self.rows.push(Row {
            id: source * PER_SOURCE + ordinal as i64,
            time: event.timestamp.map(|t| t.as_microsecond()),
            severity: int(event, "event.severity"),
            line: i64::try_from(event.origin.line).ok().filter(|l| *l > 0),
            columns,
            facets,
            threat,
            doc,
            text,
        });
    }

    /// Writes with `put` at the end of the buffer; the span written, none
    /// when empty.
    fn write(&mut self, put: impl FnOnce(&mut Vec<u8>)) -> Span {
        let start = self.bytes.len();
        put(&mut self.bytes);
        let end = self.bytes.len();
        if end == start {
            NONE
        } else {
            (start as u32, end as u32)
        }
    }

    /// A written piece as the text SQLite binds (none for `NONE`): what the
    /// writers put there is UTF-8 already, and is bound as it is.
    fn text(&self, (start, end): Span) -> Option<ToSqlOutput<'_>> {
        (start != u32::MAX).then(|| {
            ToSqlOutput::Borrowed(SqlValue::Text(&self.bytes[start as usize..end as usize]))
        })
    }

    /// A written piece as text; empty for `NONE`.
    fn str(&self, (start, end): Span) -> &str {
        if start == u32::MAX {
            return "";
        }
        std::str::from_utf8(&self.bytes[start as usize..end as usize]).unwrap_or_default()
    }

    /// Each event's id and JSON, in the order they were added (for a
    /// database that makes rows of its own from them).
    pub fn docs(&self) -> impl Iterator<Item = (i64, &str)> + '_ {
        self.rows.iter().map(|r| (r.id, self.str(r.doc)))
    }

    /// Each event's id and the text it is searched by, in the order they
    /// were added.
    pub(crate) fn texts(&self) -> impl Iterator<Item = (i64, &str)> + '_ {
        self.rows.iter().map(|r| (r.id, self.str(r.text)))
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Empties it, keeping its room.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.bytes.clear();
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
    events: &NewEvents,
    stored: i64,
) -> Result<u64, StoreError> {
    let mut counts: HashMap<(&str, i64), i64> = HashMap::new();
    let mut cells: HashMap<(i64, [&str; 4], i64), i64> = HashMap::new();
    let mut targets: HashMap<(i64, [&str; 3]), i64> = HashMap::new();
    let mut row = tx.prepare_cached(
        "INSERT INTO events (id, time, stored, dataset, host, source_ip, destination_ip,
             user_name, event_code, severity, line, doc, level, protocol, threat)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (id) DO NOTHING",
    )?;
    let mut added = 0;
    for e in &events.rows {
        let [dataset, host, source_ip, destination_ip, user_name, event_code] =
            e.columns.map(|c| events.text(c));
        let inserted = row.execute(params![
            e.id,
            e.time,
            stored,
            dataset,
            host,
            source_ip,
            destination_ip,
            user_name,
            event_code,
            e.severity,
            e.line,
            events.text(e.doc),
            events.text(e.facets[0]),
            events.text(e.facets[1]),
            e.threat,
        ])?;
        if inserted == 1 {
            added += 1;
            let hour = hour_of(e.time);
            let dataset = events.str(e.columns[0]);
            *counts.entry((dataset, hour)).or_default() += 1;
            let dims = [
                dataset,
                events.str(e.columns[1]),
                events.str(e.facets[0]),
                events.str(e.facets[1]),
            ];
            *cells
                .entry((hour, dims, e.threat.unwrap_or(BENIGN)))
                .or_default() += 1;
            if e.columns[3] != NONE {
                let target = [events.str(e.columns[3]), dims[0], dims[1]];
                *targets.entry((hour, target)).or_default() += 1;
            }
        }
    }
    count(
        tx,
        &counts
            .into_iter()
            .map(|((d, h), n)| ((d.to_owned(), h), n))
            .collect(),
    )?;
    facets::count(
        tx,
        &cells
            .into_iter()
            .map(|((hour, [d, h, l, p], c), n)| {
                ((hour, d.into(), h.into(), l.into(), p.into(), c), n)
            })
            .collect(),
    )?;
    destinations::count(
        tx,
        &targets
            .into_iter()
            .map(|((hour, [ip, d, h]), n)| ((hour, ip.into(), d.into(), h.into()), n))
            .collect(),
    )?;
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
