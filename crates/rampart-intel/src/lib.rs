//! Threat intelligence: indicators of compromise in one normal form, the
//! feed formats they arrive in, a table that matches event values against
//! them fast, and the `ioc-match` rule.
//!
//! The flow is `feed` (a file → indicators, with every bad entry reported)
//! → `table` (indicators indexed by kind) → `matcher` (an event → its
//! matches, `threat.enrichments`, `ioc-match` alerts).

pub mod counts;
mod enrichers;
pub mod feed;
pub mod geo;
pub mod indicator;
pub mod lookup;
pub mod matcher;
pub mod table;
pub mod vt;

pub use counts::{source_ip, IpCounts};
pub use enrichers::{Enrichers, VT_FIELDS};
pub use feed::{detect, parse, read_file, Feed, FeedOptions, Format};
pub use geo::GeoIp;
pub use indicator::{classify, normalise, Indicator, Kind};
pub use lookup::LookupTable;
pub use matcher::{alerts, enrich, ioc_rule, Hit};
pub use table::IntelTable;
