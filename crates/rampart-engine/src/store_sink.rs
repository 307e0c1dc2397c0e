//! The store as the engine's sink: what `ingest` is. Events, unreadable
//! lines and alerts gather in a pending commit, which is stored with how
//! far each file has been read and the engine's state (open correlation
//! and dedup windows) once it holds enough or a second has passed, always
//! at a batch's end, so the store never holds part of a batch and a run
//! that stops at any moment goes on from its last commit as if it had not
//! stopped.
//! Commits are written by a thread of their own, while the engine reads on;
//! at most four wait for it, so memory stays bounded when the disk is slow,
//! and those that waited are written in one transaction.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rampart_detect::{Alert, SavedState};
use rampart_event::Event;
use rampart_io::{FileReport, Input};
use rampart_parse::DeadLetter;
use rampart_store::{Commit, Committed, Intake, NewAlert, NewDead, Source, StoreError, PER_SOURCE};

use crate::run::Sink;

/// Events held before a commit, at most, unless told otherwise.
pub const COMMIT_EVENTS: usize = 20_000;
/// Commits that may wait for the writing thread.
const WAITING: usize = 4;
/// Events a transaction takes from the commits that waited, at most.
const TRANSACTION_EVENTS: usize = 100_000;
/// Time between commits, at most (while batches arrive).
const COMMIT_EVERY: Duration = Duration::from_secs(1);

/// Where each file's events go: its source, and how many of its events
/// and unreadable lines have been handed on (the ordinal of the next).
struct Place {
    source: i64,
    events: u64,
    dead: u64,
}

/// What the writing thread gives back: the store, what was stored, and
/// the first error (after which nothing more was stored).
pub type Written = (Box<dyn Intake>, Committed, Option<StoreError>);

/// Hands a run's results to a store.
pub struct StoreSink {
    places: HashMap<PathBuf, Place>,
    pending: Commit,
    /// Alerts of the batch whose events come next.
    batch_alerts: Vec<Alert>,
    since: Instant,
    /// Events held before a commit, at most.
    commit_events: usize,
    tx: SyncSender<Commit>,
    /// Commits written, emptied, to be filled again: their buffers go back
    /// and forth instead of being freed by the writing thread.
    spare: Receiver<Commit>,
    writer: JoinHandle<Written>,
    /// The files finished.
    reports: Vec<FileReport>,
    /// Commits handed to the writing thread, and those it has written
    /// (in order; it stops counting at its first error).
    handed: u64,
    durable: Arc<AtomicU64>,
}

impl StoreSink {
    /// A sink into `store` for `inputs`, each read from where `sources`
    /// (one per input, as `Store::source` gave them) says it was left;
    /// starts the thread that writes.
    pub fn start(
        mut store: Box<dyn Intake>,
        inputs: &[Input],
        sources: &[Source],
    ) -> io::Result<StoreSink> {
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
        let (tx, rx) = sync_channel::<Commit>(WAITING);
        let (give_back, spare) = sync_channel::<Commit>(WAITING + 1);
        let durable = Arc::new(AtomicU64::new(0));
        let written_count = Arc::clone(&durable);
        let writer = std::thread::Builder::new()
            .name("rampart-store".into())
            .spawn(move || {
                let mut stored = Committed::default();
                // SQLite's log is copied back, and the text of what was
                // committed indexed, apart while commits are written.
                let mut error = store.writing_starts().err();
                while let Ok(first) = rx.recv() {
                    // Commits that waited go in one transaction with it.
                    let mut commits = vec![first];
                    while commits.iter().map(|c| c.events.len()).sum::<usize>() < TRANSACTION_EVENTS
                    {
                        match rx.try_recv() {
                            Ok(next) => commits.push(next),
                            Err(_) => break,
                        }
                    }
                    if error.is_some() {
                        continue;
                    }
                    let written = store
                        .commit_all(&mut commits)
                        .and_then(|done| store.between_commits().map(|()| done));
                    match written {
                        Ok(done) => {
                            stored.events += done.events;
                            stored.dead += done.dead;
                            stored.alerts += done.alerts;
                            written_count.fetch_add(commits.len() as u64, Ordering::Release);
                            for commit in commits {
                                let _ = give_back.try_send(commit);
                            }
                        }
                        Err(e) => error = Some(e),
                    }
                }
                if let Err(e) = store.writing_done() {
                    error.get_or_insert(e);
                }
                (store, stored, error)
            })?;
        Ok(StoreSink {
            places,
            pending: Commit::default(),
            batch_alerts: Vec::new(),
            since: Instant::now(),
            commit_events: COMMIT_EVENTS,
            tx,
            spare,
            writer,
            reports: Vec::new(),
            handed: 0,
            durable,
        })
    }

    /// How many commits were handed to the writing thread so far: what
    /// was handed on before the last is stored once [`StoreSink::written`]
    /// reaches it.
    pub fn handed(&self) -> u64 {
        self.handed
    }

    /// How many commits are stored (in the order they were handed).
    pub fn written(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    /// Commits once `events` events are held (or a second has passed).
    pub fn commit_every(mut self, events: usize) -> StoreSink {
        self.commit_events = events.max(1);
        self
    }

    fn place(&mut self, path: &Path) -> Option<&mut Place> {
        self.places.get_mut(path)
    }

    /// Stores the events of `path` (found after the sink started: a file
    /// a followed folder gained, or a new file under a rotated one's name)
    /// as `source`'s, numbered on from those `source` says are stored. A
    /// path already placed as the same source keeps the count it has.
    pub fn add_place(&mut self, path: &Path, source: &Source) {
        let known = self.places.get(path).is_some_and(|p| p.source == source.id);
        if !known {
            self.places.insert(
                path.to_path_buf(),
                Place {
                    source: source.id,
                    events: source.events,
                    dead: source.dead,
                },
            );
        }
    }

    /// Moves the batch's alerts to the pending commit. A single-event
    /// alert whose event is one of `events` (the batch's, the first of them
    /// the `first`-th of `source`) is stored without it, linked to the
    /// stored event instead: an alert for every line of a flood then costs
    /// its own fields, not a second copy of the line.
    fn take_alerts(&mut self, events: &[Event], source: i64, first: u64) {
        if self.batch_alerts.is_empty() {
            return;
        }
        // Lines holding exactly one of the batch's events.
        let mut lines: HashMap<u64, Option<u64>> = HashMap::new();
        for (i, e) in events.iter().enumerate() {
            lines
                .entry(e.origin.line)
                .and_modify(|one| *one = None)
                .or_insert(Some(first + i as u64));
        }
        let path = events.first().map(|e| &e.origin.path);
        for mut alert in self.batch_alerts.drain(..) {
            let own = alert.events.len() == 1
                && alert.origin.line > 0
                && path.is_some_and(|p| *p == alert.origin.path);
            let ordinal = own
                .then(|| lines.get(&alert.origin.line).copied().flatten())
                .flatten();
            let linked = match ordinal {
                Some(ordinal) => {
                    alert.events.clear();
                    vec![source * PER_SOURCE + ordinal as i64]
                }
                None => Vec::new(),
            };
            self.pending.alerts.push(NewAlert {
                alert,
                events: linked,
            });
        }
    }

    /// Hands what is pending to the writing thread.
    fn hand_over(&mut self) {
        // Alerts raised after the last batch (correlations closed at the
        // end) carry their events.
        self.take_alerts(&[], 0, 0);
        self.since = Instant::now();
        if !self.pending.is_empty() {
            // The thread takes every commit until `finish`; should it have
            // died, `finish` carries its panic.
            let next = self.spare.try_recv().unwrap_or_default();
            let _ = self.tx.send(std::mem::replace(&mut self.pending, next));
            self.handed += 1;
        }
    }

    /// Stores what is pending, waits for the writing thread, and gives
    /// back the store with what was stored, and the files' reports.
    pub fn finish(mut self) -> (Written, Vec<FileReport>) {
        self.hand_over();
        let StoreSink {
            tx,
            writer,
            reports,
            ..
        } = self;
        drop(tx);
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (written, reports)
    }
}

impl Sink for StoreSink {
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
        self.batch_alerts.push(alert);
        Ok(())
    }

    fn events(&mut self, input: &Input, events: Vec<Event>) {
        let Some(place) = self.place(&input.path) else {
            self.take_alerts(&[], 0, 0);
            return;
        };
        let (source, first) = (place.source, place.events);
        place.events += events.len() as u64;
        let progress = (place.events, place.dead);
        self.take_alerts(&events, source, first);
        for (i, event) in events.iter().enumerate() {
            self.pending.events.push(source, first + i as u64, event);
        }
        self.pending.progress.insert(source, progress);
    }

    fn source_state(&mut self, input: &Input, state: Vec<u8>) {
        if let Some(place) = self.place(&input.path) {
            let source = place.source;
            self.pending.states.insert(source, state);
        }
    }

    fn keeps_state(&self) -> bool {
        true
    }

    fn state_due(&self) -> bool {
        self.pending.events.len() >= self.commit_events || self.since.elapsed() >= COMMIT_EVERY
    }

    /// Commits everything handed on so far with the state it left.
    fn state(&mut self, changes: SavedState) {
        self.pending.state = changes;
        self.hand_over();
    }

    fn wants_open_alerts(&self) -> bool {
        true
    }

    /// Stored as it stands, so that a burst going on (a brute force under
    /// way) shows before it ends; it is updated as it grows.
    fn open_alert(&mut self, alert: Alert) {
        self.pending.alerts.push(NewAlert {
            alert,
            events: Vec::new(),
        });
    }

    fn file_done(&mut self, report: FileReport) {
        self.reports.push(report);
    }
}
