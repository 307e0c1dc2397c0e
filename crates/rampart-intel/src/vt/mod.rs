//! VirusTotal (API v3) lookups that never exceed the key's quota: a
//! sliding-window limit on requests per minute, a daily budget, retries
//! with back-off, and verdicts as the VT Bulk Enricher reports them.
//! Caching across runs lives in the store; this module decides what to
//! send, sends it, and reads the answers.

mod client;
mod limit;
mod report;

use std::net::IpAddr;

pub use crate::live::{LiveAnswers, LiveClock, LiveCounts};
pub use crate::service::Lookup;
pub use client::ask;
pub use limit::{Clock, RateLimit, SystemClock};
pub use report::{is_internal, not_sent_reason, Report, VtKind, CSV_HEADER};

/// VirusTotal's answers on addresses, looked up while events flow.
pub type VtAnswers = LiveAnswers<IpAddr, Report>;
