//! One transaction of an ingest: events, unreadable lines and alerts, with
//! how far each source has been read and the engine's state as they left
//! it. They commit together, so a crash at any moment leaves the store as
//! it was after the last commit, and the next run goes on from exactly
//! there. The events' text goes to the full-text index in the same
//! transaction, or while an ingest writes, to the thread indexing it
//! (see `text`).

use std::collections::BTreeMap;

use rampart_detect::{Alert, SavedState};
use rusqlite::params;

use crate::events::{insert, insert_dead, NewDead, NewEvents};
use crate::{alerts, now_micros, text, Store, StoreError};

/// What one commit stores.
#[derive(Debug, Default)]
pub struct Commit {
    /// Events to store.
    pub events: NewEvents,
    /// Unreadable lines to keep.
    pub dead: Vec<NewDead>,
    /// Alerts to store or update.
    pub alerts: Vec<NewAlert>,
    /// For each source read: (events, unreadable lines) stored of it so far.
    pub progress: BTreeMap<i64, (u64, u64)>,
    /// What changed in the engine's state, as the events up to `progress`
    /// left it.
    pub state: SavedState,
    /// For sources that are not files (a SQL table): what each keeps to
    /// read on from where it stood, as its events up to `progress` left
    /// it.
    pub states: BTreeMap<i64, Vec<u8>>,
}

/// An alert to store, and the stored events behind it that it no longer
/// carries (their ids; see `PER_SOURCE`): read back, the alert has them
/// again.
#[derive(Debug)]
pub struct NewAlert {
    /// The alert.
    pub alert: Alert,
    /// Its events, stored apart.
    pub events: Vec<i64>,
}

/// What a commit added.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Events stored that were not before.
    pub events: u64,
    /// Unreadable lines kept that were not before.
    pub dead: u64,
    /// Alerts stored that were not before.
    pub alerts: u64,
}

impl Commit {
    /// Whether there is anything to store.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.dead.is_empty()
            && self.alerts.is_empty()
            && self.progress.is_empty()
            && self.state.is_empty()
            && self.states.is_empty()
    }
}

impl Store {
    /// Stores what `commit` holds in one transaction, and empties it.
    pub fn commit(&mut self, commit: &mut Commit) -> Result<Committed, StoreError> {
        self.commit_all(std::slice::from_mut(commit))
    }

    /// Stores `commits`, in order, in one transaction, and empties them: a
    /// writer that fell behind catches up with fewer, larger transactions,
    /// each of which rewrites the index pages it touches once. The store
    /// is left as after the last of them, or (on an error or a crash) as
    /// before the first.
    pub fn commit_all(&mut self, commits: &mut [Commit]) -> Result<Committed, StoreError> {
        let now = now_micros();
        let tx = self.conn.transaction()?;
        let mut done = Committed::default();
        for commit in commits.iter() {
            done.events += insert(&tx, &commit.events, now)?;
            done.dead += insert_dead(&tx, &commit.dead, now)?;
            done.alerts += alerts::upsert(&tx, &commit.alerts, now)?;
            let mut progress = tx.prepare_cached(
                "UPDATE sources SET events = ?2, dead = ?3, last_read = ?4 WHERE id = ?1",
            )?;
            for (source, (events, dead)) in &commit.progress {
                progress.execute(params![source, *events as i64, *dead as i64, now])?;
            }
            let mut states = tx.prepare_cached("UPDATE sources SET state = ?2 WHERE id = ?1")?;
            for (source, state) in &commit.states {
                states.execute(params![source, state])?;
            }
            crate::state::write(&tx, &commit.state)?;
        }
        match self.apart.as_ref().map(|a| &a.indexer) {
            Some(indexer) => {
                tx.commit()?;
                for commit in commits.iter() {
                    if !indexer.send(&commit.events) {
                        // Its error comes with `writing_done`.
                        break;
                    }
                }
            }
            None => {
                text::add(&tx, commits.iter().flat_map(|c| c.events.texts()))?;
                tx.commit()?;
            }
        }
        for commit in commits {
            commit.state = SavedState::default();
            commit.events.clear();
            commit.dead.clear();
            commit.alerts.clear();
            commit.progress.clear();
            commit.states.clear();
        }
        Ok(done)
    }
}
