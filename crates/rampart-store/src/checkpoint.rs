//! Copying the write-ahead log back into the database on a thread of its
//! own while a long writer runs, so that the writer only writes: SQLite
//! otherwise makes the commit that fills the log copy it back, and a large
//! ingest spends a fifth of its writing time there.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::{Store, StoreError};

/// How often the log is copied back.
const EVERY: Duration = Duration::from_millis(100);

/// The thread copying the log back; stops when dropped.
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Store {
    /// Hands the copying back of the log to a thread of its own, for as
    /// long as the returned value lives.
    pub fn checkpoint_apart(&self) -> Result<Checkpointer, StoreError> {
        let path = self
            .conn
            .path()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| StoreError("an in-memory store has no log to copy back".into()))?
            .to_owned();
        let conn = Connection::open(&path)?;
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

    /// Copies the whole log back and empties it.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
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
