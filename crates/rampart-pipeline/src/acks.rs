//! When sources that acknowledge what they read (NATS JetStream, HEC
//! with indexer acknowledgements) may do so: each batch of theirs carries
//! a ticket, and a ticket is given back once every sink keeps the batch:
//! at the next commit barrier when there is no store, else once the
//! store's commit that holds it is written.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How far a source's batches are kept by every sink, moved by the
/// pipeline as it commits; and, at the end, the source's word that it has
/// acknowledged what it could.
#[derive(Debug, Default)]
pub struct AckPoint {
    safe: AtomicU64,
    /// (the pipeline has settled: nothing more will be kept; the source
    /// has acknowledged and ended)
    end: Mutex<(bool, bool)>,
    changed: Condvar,
}

impl AckPoint {
    /// Every batch up to `ticket` is kept.
    pub fn keep(&self, ticket: u64) {
        self.safe.fetch_max(ticket, Ordering::AcqRel);
    }

    /// The last ticket every sink keeps.
    pub fn kept(&self) -> u64 {
        self.safe.load(Ordering::Acquire)
    }

    fn end(&self) -> std::sync::MutexGuard<'_, (bool, bool)> {
        self.end.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pipeline ended: waits, at most `wait`, for the source to
    /// acknowledge what was kept.
    pub fn settle(&self, wait: Duration) {
        let mut end = self.end();
        end.0 = true;
        self.changed.notify_all();
        let deadline = Instant::now() + wait;
        while !end.1 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            end = self
                .changed
                .wait_timeout(end, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    pub(crate) fn settled(&self) -> bool {
        self.end().0
    }

    /// The source acknowledged what it could and ended.
    pub fn finished(&self) {
        self.end().1 = true;
        self.changed.notify_all();
    }
}

/// How long the end of a run waits for each source's last acknowledgements.
const SETTLE: Duration = Duration::from_secs(10);

/// The acknowledging sources and their tickets.
#[derive(Default)]
pub struct Acknowledgements {
    /// Each source by its input's path, with the last ticket seen.
    points: Vec<(PathBuf, Arc<AckPoint>, u64)>,
    /// Tickets seen by a commit handed to the store, with its number.
    waiting: VecDeque<(u64, Vec<u64>)>,
}

impl Acknowledgements {
    /// The source whose events are named with `path` acknowledges through
    /// `point`.
    pub fn add(&mut self, path: PathBuf, point: Arc<AckPoint>) {
        self.points.push((path, point, 0));
    }

    /// Whether no source acknowledges what it reads.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Takes a batch's state if it is a ticket of an acknowledging source.
    pub fn note(&mut self, path: &Path, state: &[u8]) -> bool {
        let Some((_, _, seen)) = self.points.iter_mut().find(|(p, ..)| p == path) else {
            return false;
        };
        if let Ok(bytes) = <[u8; 8]>::try_from(state) {
            *seen = (*seen).max(u64::from_le_bytes(bytes));
        }
        true
    }

    /// A commit barrier passed, the sinks flushed and synced: with a store,
    /// what was seen is kept once commit number `handed` is written; else
    /// it is kept now.
    pub fn barrier(&mut self, handed: Option<u64>) {
        if self.points.is_empty() {
            return;
        }
        let seen: Vec<u64> = self.points.iter().map(|(.., t)| *t).collect();
        match handed {
            Some(n) => self.waiting.push_back((n, seen)),
            None => self.keep(&seen),
        }
    }

    /// The store has written `written` commits.
    pub fn written(&mut self, written: u64) {
        while self.waiting.front().is_some_and(|(n, _)| *n <= written) {
            if let Some((_, seen)) = self.waiting.pop_front() {
                self.keep(&seen);
            }
        }
    }

    fn keep(&self, seen: &[u64]) {
        for ((_, point, _), ticket) in self.points.iter().zip(seen) {
            point.keep(*ticket);
        }
    }

    /// The run ended: when `kept` (everything was stored), every ticket
    /// seen is kept; each source then acknowledges and ends.
    pub fn settle(&mut self, kept: bool) {
        if kept {
            let seen: Vec<u64> = self.points.iter().map(|(.., t)| *t).collect();
            self.keep(&seen);
        }
        for (_, point, _) in &self.points {
            point.settle(SETTLE);
        }
    }
}
