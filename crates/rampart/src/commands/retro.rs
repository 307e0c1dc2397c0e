//! `rampart hunt --stored`: a retro-hunt. Today's rules and intelligence
//! run over the events the store keeps, in the order they were read, so
//! that correlations see them as ingest did and an alert ingest already
//! raised comes out again with the id it has. Alerts not stored yet are
//! written out and stored; those already stored are counted and left as
//! they are (with their triage).
//!
//! The events are read from the database on a thread of their own (a
//! second connection: readers do not hold up writers), in batches, while
//! the engine works on the ones before. Alerts are looked up in the store
//! a thousand at a time (one query each for ClickHouse), then written in
//! the order they came.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc::sync_channel;

use anyhow::Context;
use rampart_detect::Alert;
use rampart_engine::{AlertSink, AlertWriter, Engine, Tally};
use rampart_event::Event;
use rampart_store::{Commit, EventQuery, Intake, NewAlert, StoreError};

/// Events per batch handed to the engine.
const BATCH: usize = 512;
/// Batches read ahead of the engine.
const AHEAD: usize = 8;
/// New alerts stored per commit.
const ALERTS_PER_COMMIT: usize = 1000;
/// Alerts looked up in the store at once.
const ALERTS_PER_LOOKUP: usize = 1000;

/// What a retro-hunt found.
pub struct Retro {
    /// Stored events run through the rules.
    pub events: u64,
    /// Stored events whose JSON could not be read back (the first error).
    pub unreadable: (u64, Option<String>),
    /// Alerts not stored before, now stored.
    pub new: u64,
    /// Alerts already stored, left as they were.
    pub known: u64,
    /// The engine's count of every alert.
    pub tally: Tally,
}

/// New alerts to the output and the store; known ones counted.
struct Retrohunt<W: Write> {
    store: Box<dyn Intake>,
    writer: AlertWriter<W>,
    /// Alerts not looked up in the store yet, in the order they came.
    waiting: Vec<Alert>,
    pending: Commit,
    /// Alerts of this run, so that none is written twice.
    seen: HashSet<String>,
    new: u64,
    known: u64,
    failed: Option<StoreError>,
}

impl<W: Write> Retrohunt<W> {
    fn store_pending(&mut self) {
        if self.failed.is_none() && !self.pending.alerts.is_empty() {
            if let Err(e) = self.store.commit(&mut self.pending) {
                self.failed = Some(e);
            }
        }
    }
}

impl<W: Write> Retrohunt<W> {
    /// Looks the waiting alerts up in the store: those stored already are
    /// counted, the others written out and stored.
    fn sort_waiting(&mut self) -> io::Result<()> {
        let ids: Vec<&str> = self.waiting.iter().map(|a| a.id.as_str()).collect();
        let stored = self.store.known_alerts(&ids).map_err(io::Error::other)?;
        for alert in std::mem::take(&mut self.waiting) {
            if stored.contains(&alert.id) || !self.seen.insert(alert.id.clone()) {
                self.known += 1;
                continue;
            }
            self.new += 1;
            self.pending.alerts.push(NewAlert {
                alert: alert.clone(),
                events: Vec::new(),
            });
            if self.pending.alerts.len() >= ALERTS_PER_COMMIT {
                self.store_pending();
            }
            self.writer.alert(alert)?;
        }
        Ok(())
    }
}

impl<W: Write> AlertSink for Retrohunt<W> {
    fn alert(&mut self, alert: Alert) -> io::Result<()> {
        self.waiting.push(alert);
        if self.waiting.len() >= ALERTS_PER_LOOKUP {
            self.sort_waiting()?;
        }
        Ok(())
    }
}

/// Runs `engine` over the events of the store at `db` that `query` finds,
/// on `threads` threads; new alerts go to `writer` and the store.
pub fn run<W: Write>(
    engine: &mut Engine,
    db: &Path,
    mut query: EventQuery,
    threads: usize,
    writer: AlertWriter<W>,
) -> anyhow::Result<Retro> {
    query.as_read = true;
    let store = super::backend::intake(db).context("cannot open the database")?;
    let mut sink = Retrohunt {
        store,
        writer,
        waiting: Vec::new(),
        pending: Commit::default(),
        seen: HashSet::new(),
        new: 0,
        known: 0,
        failed: None,
    };
    let (tx, rx) = sync_channel::<Vec<Event>>(AHEAD);
    let (tally, read) = std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_events(db, &query, |batch| tx.send(batch).is_ok()));
        let tally = engine.run_events(rx.into_iter(), threads, &mut sink);
        let read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (tally, read)
    });
    let (events, unreadable) = read.context("cannot read the stored events")?;
    sink.sort_waiting()
        .context("cannot look the alerts up in the store")?;
    sink.store_pending();
    if let Some(e) = sink.failed {
        return Err(e).context("cannot store the new alerts");
    }
    let Retrohunt {
        writer, new, known, ..
    } = sink;
    writer
        .finish()
        .or_else(|e| match e.kind() {
            io::ErrorKind::BrokenPipe => Ok(()),
            _ => Err(e),
        })
        .context("cannot write alerts")?;
    Ok(Retro {
        events,
        unreadable,
        new,
        known,
        tally,
    })
}

/// How many stored events were read, and how many could not be (with the
/// first reason).
pub type Read = (u64, (u64, Option<String>));

/// Reads the stored events `query` finds, in batches, to `send` (until it
/// returns false); gives how many were read and how many could not be.
pub fn read_events(
    db: &Path,
    query: &EventQuery,
    mut send: impl FnMut(Vec<Event>) -> bool,
) -> Result<Read, StoreError> {
    let store = super::backend::connect(db)?;
    let mut batch = Vec::with_capacity(BATCH);
    let (mut read, mut unreadable, mut first_error) = (0u64, 0u64, None);
    let mut open = true;
    store.each_event(query, &mut |stored| {
        match Event::from_ecs_json(&stored.doc) {
            Ok(mut event) => {
                // Today's intelligence decides what matches, not the day's
                // it was stored with.
                event.remove("threat.enrichments");
                batch.push(event);
                read += 1;
            }
            Err(e) => {
                unreadable += 1;
                first_error.get_or_insert_with(|| format!("event {}: {e}", stored.id));
            }
        }
        if batch.len() == BATCH {
            open = send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
        }
        open
    })?;
    if open && !batch.is_empty() {
        send(batch);
    }
    Ok((read, (unreadable, first_error)))
}
