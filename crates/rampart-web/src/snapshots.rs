//! Overviews shared between browsers: the overview of one view is worked
//! out at most once per [`FRESH`] however many browsers refresh it, and
//! each browser asking meanwhile gets the same one. Once a view has been
//! read, a browser finding it stale gets it at once while it is read
//! again in the background, so no browser waits for a reading of a large
//! store except the first to ask for a view; fifty browsers asking at once
//! cause one reading, not fifty, and other views are not held up. At most
//! [`MOST_VIEWS`] views are kept, the least recently asked for going
//! first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rampart_store::{Board, Choices, Extent, Period, StoreError};

use crate::filters::View;
use crate::readers::Readers;

/// How long an overview is shown before it is read again.
pub const FRESH: Duration = Duration::from_millis(900);

/// Views kept.
const MOST_VIEWS: usize = 64;

/// An overview and what it was read with.
#[derive(Debug)]
pub struct Snapshot {
    /// The figures.
    pub board: Board,
    /// The values each filter can take in its range.
    pub choices: Choices,
    /// How far the stored data reaches.
    pub extent: Extent,
    /// The range shown.
    pub period: Period,
}

#[derive(Debug, Default)]
struct Slot {
    latest: Option<(Instant, Arc<Snapshot>)>,
    /// Whether it is being read again in the background.
    refreshing: bool,
}

/// A view's slot, and when it was last asked for.
type Kept = (Instant, Arc<tokio::sync::Mutex<Slot>>);

/// The overviews kept.
#[derive(Debug, Default)]
pub struct Boards {
    slots: Mutex<HashMap<View, Kept>>,
}

impl Boards {
    /// The overview of `view`, read again if it is older than [`FRESH`].
    pub async fn get(&self, view: &View, readers: &Readers) -> Result<Arc<Snapshot>, StoreError> {
        let slot = {
            let mut slots = self
                .slots
                .lock()
                .map_err(|_| StoreError("the overview cache was left broken".into()))?;
            if slots.len() >= MOST_VIEWS && !slots.contains_key(view) {
                let oldest = slots
                    .iter()
                    .min_by_key(|(_, (asked, _))| *asked)
                    .map(|(v, _)| v.clone());
                if let Some(oldest) = oldest {
                    slots.remove(&oldest);
                }
            }
            let entry = slots
                .entry(view.clone())
                .or_insert_with(|| (Instant::now(), Arc::default()));
            entry.0 = Instant::now();
            entry.1.clone()
        };
        let mut guard = slot.lock().await;
        if let Some((at, snapshot)) = &guard.latest {
            let snapshot = snapshot.clone();
            if at.elapsed() >= FRESH && !guard.refreshing {
                guard.refreshing = true;
                let (slot, readers, view) = (slot.clone(), readers.clone(), view.clone());
                tokio::spawn(async move {
                    let read = read(view, &readers).await;
                    let mut guard = slot.lock().await;
                    guard.refreshing = false;
                    // A failed reading leaves the last one shown; the next
                    // request tries again.
                    if let Ok(snapshot) = read {
                        guard.latest = Some((Instant::now(), Arc::new(snapshot)));
                    }
                });
            }
            return Ok(snapshot);
        }
        // The first reading of a view: whoever asks meanwhile waits for it.
        let snapshot = Arc::new(read(view.clone(), readers).await?);
        guard.latest = Some((Instant::now(), snapshot.clone()));
        Ok(snapshot)
    }
}

/// Reads the overview of `view` over one view of the data.
async fn read(view: View, readers: &Readers) -> Result<Snapshot, StoreError> {
    readers
        .read(move |store| {
            store.snapshot(|store| {
                let now = Timestamp::now();
                let extent = store.extent()?;
                let period = view.period(&extent, now);
                let slice = view.slice(&extent, now);
                Ok(Snapshot {
                    board: store.board(&slice)?,
                    choices: store.choices(slice.since, slice.until)?,
                    extent,
                    period,
                })
            })
        })
        .await
}
