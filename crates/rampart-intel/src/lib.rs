//! Threat intelligence: indicators of compromise in one normal form, the
//! feed formats they arrive in, a table that matches event values against
//! them fast, and the `ioc-match` rule.
//!
//! The flow is `feed` (a file → indicators, with every bad entry reported)
//! → `table` (indicators indexed by kind) → `matcher` (an event → its
//! matches, `threat.enrichments`, `ioc-match` alerts).

pub mod answer;
pub mod counts;
mod enrichers;
pub mod feed;
pub mod geo;
pub mod indicator;
mod live;
pub mod lookup;
pub mod matcher;
pub mod mmdb_table;
pub mod service;
pub mod table;
pub mod vt;

pub use answer::{Answer, Fields};
pub use counts::{source_ip, IpCounts};
pub use enrichers::{Enrichers, Join, LiveLookup, VT_FIELDS};
pub use feed::{detect, parse, read_file, Feed, FeedOptions, Format};
pub use geo::GeoIp;
pub use indicator::{classify, normalise, Indicator, Kind};
pub use live::{LiveAnswers, LiveClock, LiveCounts};
pub use lookup::LookupTable;
pub use matcher::{alerts, enrich, ioc_rule, Hit};
pub use mmdb_table::MmdbTable;
pub use table::IntelTable;
