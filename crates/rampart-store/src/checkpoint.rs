//! Copying the write-ahead log back into the database on a thread of its
//! own while a long writer runs, so that the writer only writes: SQLite
//! otherwise makes the commit that fills the log copy it back, and a large
//! ingest spends a fifth of its writing time there. A long writer also
//! has the text of what it commits indexed apart (see `text`); both
//! threads start and stop here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::text::Indexer;
use crate::{file_of, Apart, Store, StoreError};

/// How often the log is copied back.
const EVERY: Duration = Duration::from_millis(100);

/// The thread copying the log back; stops when dropped.
pub(crate) struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Store {
    /// Moves the copying back of the log and the indexing of committed
    /// events' text to threads of their own, until
    /// [`Store::writing_done`]. A store in memory has neither.
    pub fn writing_starts(&mut self) -> Result<(), StoreError> {
        let file = file_of(&self.conn).map(str::to_owned);
        if let (None, Some(path)) = (&self.apart, file) {
            self.apart = Some(Apart {
                checkpointer: self.checkpoint_apart(&path)?,
                indexer: Indexer::start(&path)?,
            });
        }
        Ok(())
    }

    /// Waits for the threads of [`Store::writing_starts`], then copies the
    /// logs back whole; the indexing thread's error, if it had one.
    pub fn writing_done(&mut self) -> Result<(), StoreError> {
        if let Some(apart) = self.apart.take() {
            drop(apart.checkpointer);
            apart.indexer.finish()?;
        }
        self.checkpoint()
    }

    /// Hands the copying back of the log of the database at `path` (this
    /// one's) to a thread of its own, for as long as the returned value
    /// lives.
    fn checkpoint_apart(&self, path: &str) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("rampart-checkpoint".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    // Copies what it can without waiting on the writer.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    std::thread::sleep(EVERY);
                }
            })
            .map_err(|e| StoreError(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }

    /// When the log has grown past `limit` bytes, copies the rest of it
    /// back and empties it, so that the next commit writes it from its
    /// start again: a
    /// writer that never pauses otherwise keeps the copying thread from
    /// ever catching up, and the log grows without end (6.4 GB while 5 GB
    /// of events were stored). Called by the writer between commits.
    pub fn bound_log(&self, limit: u64) -> Result<(), StoreError> {
        let Some(path) = file_of(&self.conn) else {
            return Ok(());
        };
        let size = std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
        if size > limit {
            self.checkpoint_of("main")?;
        }
        Ok(())
    }

    /// Copies the whole log back and empties it, the full-text index's
    /// too.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.checkpoint_of("main")?;
        self.checkpoint_of("text")
    }

    fn checkpoint_of(&self, schema: &str) -> Result<(), StoreError> {
        self.conn.query_row(
            &format!("PRAGMA {schema}.wal_checkpoint(TRUNCATE)"),
            [],
            |_| Ok(()),
        )?;
        Ok(())
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Commit;
    use rampart_event::{Event, Origin};

    #[test]
    fn a_log_past_its_bound_is_started_again_by_the_next_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let mut store = Store::open(&path).unwrap();
        // As while a checkpointing thread runs: commits do not copy back.
        drop(store.checkpoint_apart(path.to_str().unwrap()).unwrap());
        let source = store.source(b"log", "l.log").unwrap().id;
        let mut next = 0;
        let mut commit_some = |store: &mut Store, n: u64| {
            let mut commit = Commit::default();
            for _ in 0..n {
                let e = Event::new(
                    Origin::new("l.log", next + 1),
                    "a line of some length, repeated",
                );
                commit.events.push(source, next, &e);
                next += 1;
            }
            store.commit(&mut commit).unwrap();
        };
        for _ in 0..5 {
            commit_some(&mut store, 2000);
        }
        let wal = dir.path().join("r.db-wal");
        let grown = std::fs::metadata(&wal).unwrap().len();
        let size = || std::fs::metadata(&wal).unwrap().len();
        // Under the bound: nothing happens.
        store.bound_log(grown + 1).unwrap();
        commit_some(&mut store, 10);
        assert!(size() >= grown);
        // Past it: copied back and emptied; the next commit starts it again.
        store.bound_log(grown / 2).unwrap();
        commit_some(&mut store, 10);
        assert!(
            size() < grown / 10,
            "{} bytes after, {grown} before",
            size()
        );
        assert_eq!(store.stats().unwrap().events, 10_020);
    }
}
