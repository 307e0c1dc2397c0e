//! The normalised event that every rampart stage shares.
//!
//! Parsers turn raw log lines into an [`Event`]; enrichment adds to it; the rule
//! engine reads it by dotted ECS name; sinks serialise it as nested ECS JSON.
//! One type for every format is what lets one rule engine serve sshd lines,
//! Windows events and Suricata alerts alike.
//!
//! Design choices:
//! - Fields are a flat list of `(dotted name, typed value)` pairs. Events carry
//!   a few dozen fields at most, so a linear scan beats hashing, and parsers
//!   push static names without allocating.
//! - Values are typed ([`Value`]): IPs are `IpAddr`, ports and status codes are
//!   integers, times are UTC instants, so rules compare like with like.
//! - `@timestamp`, `event.original` and the origin (`log.file.path`,
//!   `log.file.line`) live in dedicated members: every event has them and the
//!   pipeline reads them on its hot path.
//!
//! ```
//! use rampart_event::{Event, Origin, Value};
//! let mut event = Event::new(Origin::new("auth.log", 7), "Failed password ...");
//! event.set("source.ip", "203.0.113.7".parse::<std::net::IpAddr>().unwrap());
//! event.set("source.port", 22u16);
//! assert_eq!(event.get("source.port").and_then(|v| v.as_i64()), Some(22));
//! assert_eq!(event.get("log.file.line").and_then(|v| v.as_i64()), Some(7));
//! ```

mod event;
mod json;
mod json_read;
pub mod severity;
pub mod time;
mod value;

pub use event::{Event, FieldName, Origin};
pub use json::write_value;
pub use value::{Value, ValueRef};

/// Re-exported so downstream crates name the same timestamp type.
pub use jiff::Timestamp;
