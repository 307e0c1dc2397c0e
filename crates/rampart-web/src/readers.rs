//! Connections to the store for the handlers: each request borrows one on
//! a blocking thread (the databases' clients block) and gives it back, so
//! a handful of connections serve any number of requests, and (for
//! SQLite) the write-ahead log lets them read while another process
//! writes. At most [`MOST`] are kept; a burst beyond that opens more and
//! closes them after. Which database they reach, the SQLite store or
//! ClickHouse, is the [`Opener`]'s business.

use std::sync::{Arc, Mutex};

use rampart_store::{Backend, StoreError};

/// Connections kept open between requests.
const MOST: usize = 8;

/// Opens a connection to the database.
pub type Open = dyn Fn() -> Result<Box<dyn Backend>, StoreError> + Send + Sync;

/// How connections are opened.
#[derive(Clone)]
pub struct Opener(pub Arc<Open>);

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opener")
    }
}

/// The pool (a clone shares it).
#[derive(Clone)]
pub struct Readers {
    opener: Opener,
    idle: Arc<Mutex<Vec<Box<dyn Backend>>>>,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("opener", &self.opener)
            .finish()
    }
}

impl Readers {
    /// A pool of connections `opener` opens (when first needed).
    pub fn new(opener: Opener) -> Readers {
        Readers {
            opener,
            idle: Arc::default(),
        }
    }

    /// Runs `work` with a connection, on a blocking thread.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn Backend) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let open = self.opener.0.clone();
        let idle = self.idle.clone();
        tokio::task::spawn_blocking(move || {
            let taken = idle.lock().map_err(|_| poisoned())?.pop();
            let mut store = match taken {
                Some(store) => store,
                None => open()?,
            };
            let done = work(store.as_mut());
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
