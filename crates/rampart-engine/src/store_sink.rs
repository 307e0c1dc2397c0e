//! The store as the engine's sink: what `ingest` is. Events, unreadable
//! lines and alerts gather in a pending commit, which is stored with how
//! far each file has been read once it holds enough or a second has
//! passed, always at a batch's end, so the store never holds part of a
//! batch and a run that stops at any moment goes on from its last commit.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rampart_detect::Alert;
use rampart_event::Event;
use rampart_io::{FileReport, Input};
use rampart_parse::DeadLetter;
use rampart_store::{Commit, Committed, NewDead, NewEvent, Source, Store, StoreError};

use crate::run::Sink;

/// Events held before a commit, at most.
const COMMIT_EVENTS: usize = 50_000;
/// Time between commits, at most (while batches arrive).
const COMMIT_EVERY: Duration = Duration::from_secs(1);

/// Where each file's events go: its source, and how many of its events
/// and unreadable lines have been handed on (the ordinal of the next).
struct Place {
    source: i64,
    events: u64,
    dead: u64,
}

/// Hands a run's results to a store.
pub struct StoreSink<'s> {
    store: &'s mut Store,
    places: HashMap<PathBuf, Place>,
    pending: Commit,
    since: Instant,
    /// What was stored.
    pub committed: Committed,
    /// The files finished.
    pub reports: Vec<FileReport>,
    /// The first store error; nothing is stored after it.
    pub error: Option<StoreError>,
}

impl<'s> StoreSink<'s> {
    /// A sink into `store` for `inputs`, each read from where `sources`
    /// (one per input, as `Store::source` gave them) says it was left.
    pub fn new(store: &'s mut Store, inputs: &[Input], sources: &[Source]) -> StoreSink<'s> {
        let places = inputs
            .iter()
            .zip(sources)
            .map(|(input, source)| {
                let place = Place {
                    source: source.id,
                    events: source.events,
                    dead: source.dead,
                };
                (input.path.clone(), place)
            })
            .collect();
        StoreSink {
            store,
            places,
            pending: Commit::default(),
            since: Instant::now(),
            committed: Committed::default(),
            reports: Vec::new(),
            error: None,
        }
    }

    fn place(&mut self, path: &Path) -> Option<&mut Place> {
        self.places.get_mut(path)
    }

    /// Stores what is pending.
    pub fn flush(&mut self) {
        self.since = Instant::now();
        if self.error.is_some() || self.pending.is_empty() {
            return;
        }
        match self.store.commit(&mut self.pending) {
            Ok(done) => {
                self.committed.events += done.events;
                self.committed.dead += done.dead;
                self.committed.alerts += done.alerts;
            }
            Err(e) => self.error = Some(e),
        }
    }
}

impl Sink for StoreSink<'_> {
    fn dead(&mut self, input: &Input, dead: &[DeadLetter]) {
        let Some(place) = self.place(&input.path) else {
            return;
        };
        let (source, first) = (place.source, place.dead);
        place.dead += dead.len() as u64;
        let progress = (place.events, place.dead);
        self.pending
            .dead
            .extend(dead.iter().enumerate().map(|(i, d)| NewDead {
                source,
                ordinal: first + i as u64,
                line: d.line,
                reason: d.reason.clone(),
                text: d.text.clone(),
            }));
        self.pending.progress.insert(source, progress);
    }

    fn alert(&mut self, alert: Alert) -> io::Result<()> {
        self.pending.alerts.push(alert);
        Ok(())
    }

    fn events(&mut self, input: &Input, events: Vec<Event>) {
        let Some(place) = self.place(&input.path) else {
            return;
        };
        let (source, first) = (place.source, place.events);
        place.events += events.len() as u64;
        let progress = (place.events, place.dead);
        self.pending
            .events
            .extend(events.into_iter().enumerate().map(|(i, event)| NewEvent {
                source,
                ordinal: first + i as u64,
                event,
            }));
        self.pending.progress.insert(source, progress);
        if self.pending.events.len() >= COMMIT_EVENTS || self.since.elapsed() >= COMMIT_EVERY {
            self.flush();
        }
    }

    fn file_done(&mut self, report: FileReport) {
        self.reports.push(report);
    }
}
