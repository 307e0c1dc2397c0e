//! The time range a dashboard (the terminal one or the web console)
//! shows: the last hour, day or days, all the data, or a given range; how
//! it opens, where it starts and ends at a given moment, and its name on
//! screen. Both dashboards open the same way: on the last day, or on all
//! the data when the newest is older than that.

use crate::Extent;
use jiff::{SignedDuration, Timestamp};

/// The time range asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// Up to now, this far back.
    Last(SignedDuration),
    /// Everything stored.
    Everything,
    /// What `--since` and `--until` said (the data's extent, or now, for
    /// the side left out).
    Given {
        /// The start; the data's first time when left out.
        since: Option<Timestamp>,
        /// The end; the data's last time, or now, when left out.
        until: Option<Timestamp>,
    },
}

/// A day.
pub const DAY: SignedDuration = SignedDuration::from_hours(24);

impl Period {
    /// The range to open on: the last day, or everything when the newest
    /// data is older than a day (logs read after the fact).
    pub fn default_for(extent: &Extent, now: Timestamp) -> Period {
        match extent.range {
            Some((_, end)) if end < now - DAY => Period::Everything,
            _ => Period::Last(DAY),
        }
    }

    /// The range's start and end (not in it) at `now`.
    pub fn bounds(&self, extent: &Extent, now: Timestamp) -> (Timestamp, Timestamp) {
        let last_day = (now - DAY, now);
        match *self {
            Period::Last(back) => (now - back, now),
            Period::Everything => extent.range.unwrap_or(last_day),
            Period::Given { since, until } => {
                let (first, end) = extent.range.unwrap_or(last_day);
                let until = until.unwrap_or(end.max(now));
                (since.unwrap_or(first.min(until)), until)
            }
        }
    }

    /// Whether the range moves with the clock (and so must be read again
    /// even when nothing new was stored).
    pub fn slides(&self) -> bool {
        match self {
            Period::Last(_) => true,
            Period::Everything => false,
            Period::Given { until, .. } => until.is_none(),
        }
    }

    /// The range in a few words.
    pub fn label(&self) -> String {
        match *self {
            Period::Last(back) => match back.as_hours() {
                1 => "last hour".into(),
                24 => "last day".into(),
                h if h % 24 == 0 => format!("last {} days", h / 24),
                h => format!("last {h} hours"),
            },
            Period::Everything => "all data".into(),
            Period::Given { .. } => "given range".into(),
        }
    }
}
