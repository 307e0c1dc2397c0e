//! Connections to the store for the handlers: each request borrows one on
//! a blocking thread (SQLite calls block) and gives it back, so a handful
//! of connections serve any number of requests, and the database's
//! write-ahead log lets them read while another process writes. At most
//! [`MOST`] are kept; a burst beyond that opens more and closes them after.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rampart_store::{Store, StoreError};

/// Connections kept open between requests.
const MOST: usize = 8;

/// The pool (a clone shares it).
#[derive(Debug, Clone)]
pub struct Readers {
    db: PathBuf,
    idle: Arc<Mutex<Vec<Store>>>,
}

impl Readers {
    /// A pool over the database at `db` (opened when first needed).
    pub fn new(db: PathBuf) -> Readers {
        Readers {
            db,
            idle: Arc::default(),
        }
    }

    /// Runs `work` with a connection, on a blocking thread.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        let idle = self.idle.clone();
        tokio::task::spawn_blocking(move || {
            let taken = idle.lock().map_err(|_| poisoned())?.pop();
            let mut store = match taken {
                Some(store) => store,
                None => Store::open(&db)?,
            };
            let done = work(&mut store);
            let mut idle = idle.lock().map_err(|_| poisoned())?;
            if idle.len() < MOST {
                idle.push(store);
            }
            done
        })
        .await
        .map_err(|e| StoreError(format!("a reader stopped: {e}")))?
    }
}

fn poisoned() -> StoreError {
    StoreError("the connection pool was left broken by a failed request".into())
}
