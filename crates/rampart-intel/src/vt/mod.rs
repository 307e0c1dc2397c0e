//! VirusTotal (API v3) lookups that never exceed the key's quota: a
//! sliding-window limit on requests per minute, a daily budget, retries
//! with back-off, and verdicts as the VT Bulk Enricher reports them.
//! Caching across runs lives in the store; this module decides what to
//! send, sends it, and reads the answers.

mod client;
mod limit;
mod live;
mod report;

pub use client::{Lookup, VtClient, VtError};
pub use limit::{Clock, RateLimit, SystemClock};
pub use live::{LiveAnswers, LiveClock, LiveCounts};
pub use report::{is_internal, not_sent_reason, Report, VtKind, CSV_HEADER};
