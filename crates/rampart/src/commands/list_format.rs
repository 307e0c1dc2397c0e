//! The output formats of the commands that list stored things (alerts,
//! events): a table for people, JSON lines, one JSON array, or CSV.

use clap::ValueEnum;
use rampart_event::Timestamp;

/// How a list is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns.
    Table,
    /// One JSON object per line.
    Jsonl,
    /// One JSON array.
    Json,
    /// Comma-separated values, formulas neutralised.
    Csv,
}

/// A time as a table cell shows it (UTC, to the second; empty for none).
pub fn cell_time(t: Option<Timestamp>) -> String {
    t.map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}
