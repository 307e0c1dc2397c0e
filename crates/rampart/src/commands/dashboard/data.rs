//! Loading what the dashboard shows: the figures of the range and minimum
//! severity asked for, the newest alerts, and the open alert with its
//! events and triage history, all read on one view of the store so that
//! the panels agree while an ingest writes.

use jiff::Timestamp;
use rampart_detect::Level;
use rampart_store::{
    AlertFilter, Backend, Extent, Figures, OverviewFilter, Step, StoreError, StoredAlert,
};

use crate::commands::alerts::describe;
use rampart_store::Period;

/// Entries of each top list.
const TOP: usize = 10;

/// Newest alerts listed.
const NEWEST: u64 = 100;

/// An alert of the newest list, with what it is about.
#[derive(Debug, Clone)]
pub struct Row {
    /// The alert.
    pub alert: StoredAlert,
    /// Its group (`source.ip=203.0.113.9 ...`).
    pub about: String,
}

/// An open alert.
#[derive(Debug, Clone)]
pub struct Detail {
    /// The alert, its events put back in.
    pub alert: StoredAlert,
    /// Its JSON.
    pub doc: serde_json::Value,
    /// Its triage steps, oldest first.
    pub history: Vec<Step>,
}

/// What one load found.
#[derive(Debug, Clone)]
pub struct Data {
    /// How far the stored data reaches.
    pub extent: Extent,
    /// The range shown (its end not in it).
    pub range: (Timestamp, Timestamp),
    /// The range's figures.
    pub figures: Figures,
    /// The newest alerts, newest first.
    pub newest: Vec<Row>,
    /// The open alert, when one is open and still stored.
    pub detail: Option<Detail>,
}

impl Data {
    /// Whether nothing at all is stored.
    pub fn is_empty(&self) -> bool {
        !self.extent.stored
    }

    /// Alerts in the range.
    pub fn alert_total(&self) -> u64 {
        self.figures.by_severity.iter().map(|(_, n)| n).sum()
    }

    /// Events in the hours the range touches.
    pub fn event_total(&self) -> u64 {
        self.figures.events.counts.iter().sum()
    }
}

/// Loads what `period` (the default for the data when `None`) and
/// `min_severity` select at `now`, and alert `open` in full. Returns the
/// period used.
pub fn load(
    store: &dyn Backend,
    period: Option<Period>,
    min_severity: Option<Level>,
    open: Option<&str>,
    now: Timestamp,
) -> Result<(Period, Data), StoreError> {
    store.snapshot(|store| {
        let extent = store.extent()?;
        let period = period.unwrap_or_else(|| Period::default_for(&extent, now));
        let (since, until) = period.bounds(&extent, now);
        let filter = OverviewFilter {
            since,
            until,
            min_severity,
        };
        let newest = store.alerts(&AlertFilter {
            min_severity,
            since: Some(since),
            until: Some(until),
            limit: Some(NEWEST),
            ..AlertFilter::default()
        })?;
        let detail = match open {
            Some(id) => store.alert(id)?.map(|alert| -> Result<Detail, StoreError> {
                Ok(Detail {
                    doc: serde_json::from_str(&alert.doc).unwrap_or_default(),
                    history: store.history(&alert.id)?,
                    alert,
                })
            }),
            None => None,
        }
        .transpose()?;
        let data = Data {
            extent,
            range: (since, until),
            figures: store.figures(&filter, TOP)?,
            newest: newest
                .into_iter()
                .map(|alert| Row {
                    about: describe(&alert.group()),
                    alert,
                })
                .collect(),
            detail,
        };
        Ok((period, data))
    })
}
