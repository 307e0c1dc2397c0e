//! What `ingest` and the store sinks of `rampart run` need of the database
//! they write, whichever holds it: the files read, known by their first
//! bytes, with how far each was read; the engine's saved windows; commits
//! of events, unreadable lines and alerts with that progress; the record
//! of runs. The SQLite [`Store`] makes each commit one transaction;
//! ClickHouse (`rampart-clickhouse`) sends rows that count once however
//! often they are sent, then the progress and windows in one insert, so
//! both go on after a crash from exactly their last commit.

use std::collections::HashSet;

use rampart_detect::SavedState;

use crate::{Backend, Commit, Committed, Source, Store, StoreError};

/// A database `ingest` writes to (and reads back, as a [`Backend`]).
pub trait Intake: Backend {
    /// The file that starts with `head` (its first
    /// [`crate::FINGERPRINT_BYTES`], or all of it when shorter), now at
    /// `path`: the one known by that start or a shorter start of it, or
    /// else a new one.
    fn source(&mut self, head: &[u8], path: &str) -> Result<Source, StoreError>;

    /// The whole saved state of the engine, for it to go on from.
    fn saved_state(&self) -> Result<SavedState, StoreError>;

    /// Stores `commits`, in order, and empties them: after an error or a
    /// crash the database goes on from as before the first, or as after
    /// the last.
    fn commit_all(&mut self, commits: &mut [Commit]) -> Result<Committed, StoreError>;

    /// Stores one commit (see [`Intake::commit_all`]).
    fn commit(&mut self, commit: &mut Commit) -> Result<Committed, StoreError> {
        self.commit_all(std::slice::from_mut(commit))
    }

    /// Which of `ids` name stored alerts.
    fn known_alerts(&self, ids: &[&str]) -> Result<HashSet<String>, StoreError>;

    /// Notes that `command` starts over `paths` with `rules`; the run's id.
    fn start_run(
        &mut self,
        command: &str,
        paths: &[String],
        rules: &[String],
    ) -> Result<i64, StoreError>;

    /// Notes that run `id` is over, and what it stored.
    fn finish_run(&mut self, id: i64, stored: &Committed) -> Result<(), StoreError>;

    /// Called by a writing thread before its first commit: work that keeps
    /// it to writing rows moves to threads of its own until
    /// [`Intake::writing_done`] (SQLite copies its log back and indexes
    /// the text of what was committed apart); none by default.
    fn writing_starts(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Called by a writing thread between commits.
    fn between_commits(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Called by a writing thread once it has written its last commit:
    /// waits for the work moved apart.
    fn writing_done(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The write-ahead log's size past which a writing thread has it copied
/// back whole and started again.
const LOG_BYTES: u64 = 256 << 20;

impl Intake for Store {
    fn source(&mut self, head: &[u8], path: &str) -> Result<Source, StoreError> {
        Store::source(self, head, path)
    }

    fn saved_state(&self) -> Result<SavedState, StoreError> {
        Store::saved_state(self)
    }

    fn commit_all(&mut self, commits: &mut [Commit]) -> Result<Committed, StoreError> {
        Store::commit_all(self, commits)
    }

    fn known_alerts(&self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut known = HashSet::new();
        for id in ids {
            if self.has_alert(id)? {
                known.insert((*id).to_owned());
            }
        }
        Ok(known)
    }

    fn start_run(
        &mut self,
        command: &str,
        paths: &[String],
        rules: &[String],
    ) -> Result<i64, StoreError> {
        Store::start_run(self, command, paths, rules)
    }

    fn finish_run(&mut self, id: i64, stored: &Committed) -> Result<(), StoreError> {
        Store::finish_run(self, id, stored)
    }

    fn writing_starts(&mut self) -> Result<(), StoreError> {
        Store::writing_starts(self)
    }

    fn between_commits(&self) -> Result<(), StoreError> {
        self.bound_log(LOG_BYTES)
    }

    fn writing_done(&mut self) -> Result<(), StoreError> {
        Store::writing_done(self)
    }
}
