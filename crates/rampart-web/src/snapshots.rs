//! Overviews shared between browsers: the overview of one view is worked
//! out at most once per [`FRESH`] however many browsers refresh it, and
//! each browser asking meanwhile gets the same one. A view being worked
//! out holds its own lock, so fifty browsers asking at once cause one
//! reading of the store, not fifty; other views are not held up. At most
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
        let mut slot = slot.lock().await;
        if let Some((at, snapshot)) = &slot.latest {
            if at.elapsed() < FRESH {
                return Ok(snapshot.clone());
            }
        }
        let wanted = view.clone();
        let snapshot = Arc::new(
            readers
                .read(move |store| {
                    store.snapshot(|store| {
                        let now = Timestamp::now();
                        let extent = store.extent()?;
                        let period = wanted.period(&extent, now);
                        let slice = wanted.slice(&extent, now);
                        Ok(Snapshot {
                            board: store.board(&slice)?,
                            choices: store.choices(slice.since, slice.until)?,
                            extent,
                            period,
                        })
                    })
                })
                .await?,
        );
        slot.latest = Some((Instant::now(), snapshot.clone()));
        Ok(snapshot)
    }
}
