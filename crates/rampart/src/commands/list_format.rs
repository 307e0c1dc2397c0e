//! The output formats of the commands that list stored things (alerts,
//! events): a table for people, JSON lines, one JSON array, or CSV.

use clap::ValueEnum;

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
