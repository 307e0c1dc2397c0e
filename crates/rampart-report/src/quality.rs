//! The data-quality report, measured from the data: per source, how many
//! rows were read and how many had each problem, in which column, and what
//! was done about it. Problems within a row come from the parsers' own
//! marks (`rampart.quality`); problems between rows (time drift, a child
//! started before its parent, a reused PID) are found once everything is
//! read.

use std::collections::BTreeMap;

use serde::Serialize;

/// Columns without which a telemetry row says nothing: its process, its
/// time and what it acted on. Empty optional columns (a registry value's
/// name and data) are counted apart.
const REQUIRED: &[&str] = &[
    "process_id",
    "parent_id",
    "start_time",
    "timestamp",
    "executable_path",
    "dst_ip",
    "file_path",
    "registry_key",
];

/// One kind of problem in one source.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Issue {
    /// Rows with it.
    pub rows: u64,
    /// Per column, where it names one.
    pub columns: BTreeMap<String, u64>,
}

/// What the report did with a kind of problem.
pub fn action(kind: &str) -> &'static str {
    match kind {
        "exact-duplicate" => "dropped from the unified stream and the cleaned CSV (the first copy is kept)",
        "corrupt-marker" => "repaired: the marked value is removed, the row is kept and flagged",
        "empty-required-field" => "kept and flagged; the field is left empty",
        "empty-optional-field" => "kept",
        "unparseable-time" => "kept and flagged; ordered after the events with a time",
        "end-before-start" => "kept and flagged; the start time orders it",
        "own-parent" => "kept and flagged; not linked to a parent in process trees",
        "time-drift" => "kept and flagged (dated a year or more outside the span of the middle 98% of times); left out of the charts' span",
        "child-before-parent" => "kept, linked to its parent and flagged in process trees",
        "pid-reused" => "repaired: each use of the PID is its own process, told apart by start time",
        "unparsed-line" => "kept as a raw event marked unparsed (binary data: as a dead letter only)",
        _ => "kept and flagged",
    }
}

/// What a parser's mark `kind:column` is called in the report.
fn kind_of(mark: &str, column: &str) -> String {
    match mark {
        "duplicate-row" => "exact-duplicate".to_owned(),
        "corrupt-value" => "corrupt-marker".to_owned(),
        "empty-field" if REQUIRED.contains(&column) => "empty-required-field".to_owned(),
        "empty-field" => "empty-optional-field".to_owned(),
        "unreadable-time" => "unparseable-time".to_owned(),
        "pid-equals-parent-pid" => "own-parent".to_owned(),
        "unparsed" => "unparsed-line".to_owned(),
        other => other.to_owned(),
    }
}

/// The quality of one source.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Source {
    /// The file.
    pub path: String,
    /// The format it was read as.
    pub format: Option<String>,
    /// Rows (lines or records) read: events and unparsed lines.
    pub rows: u64,
    /// Events made of them.
    pub events: u64,
    /// Rows with at least one problem.
    pub rows_with_problems: u64,
    /// Problems by kind.
    pub issues: BTreeMap<String, Issue>,
    /// The first unparsed lines: line and reason.
    pub examples: Vec<(u64, String)>,
    /// Why it could not be read (or stopped being read).
    pub error: Option<String>,
}

impl Source {
    /// Counts one event's marks (`kind:column`, as `rampart.quality` holds
    /// them); returns whether it is an exact duplicate.
    pub fn marks<'a>(&mut self, marks: impl Iterator<Item = &'a str>) -> bool {
        self.events += 1;
        let mut duplicate = false;
        let mut any = false;
        let mut kinds: Vec<String> = Vec::new();
        for mark in marks {
            let (m, column) = mark.split_once(':').unwrap_or((mark, ""));
            let kind = kind_of(m, column);
            if kind == "empty-optional-field" {
                // Sparse columns are normal; counted, not a problem of the row.
                let issue = self.issues.entry(kind).or_default();
                *issue.columns.entry(column.to_owned()).or_default() += 1;
                continue;
            }
            duplicate |= kind == "exact-duplicate";
            any = true;
            let issue = self.issues.entry(kind.clone()).or_default();
            if !column.is_empty() && column != "*" {
                *issue.columns.entry(column.to_owned()).or_default() += 1;
            }
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        for kind in kinds {
            if let Some(issue) = self.issues.get_mut(&kind) {
                issue.rows += 1;
            }
        }
        if any {
            self.rows_with_problems += 1;
        }
        duplicate
    }

    /// Takes the reader's counts at the end of the file: lines no parser
    /// read, of which those of text are already events marked unparsed.
    pub fn unparsed(&mut self, unparsed: u64) {
        let kept = self.issues.get("unparsed-line").map_or(0, |i| i.rows);
        let extra = unparsed.saturating_sub(kept);
        self.rows = self.events + extra;
        self.add("unparsed-line", extra);
        if extra > 0 {
            self.rows_with_problems += extra;
        }
    }

    /// Counts `n` rows with a problem found between rows.
    pub fn add(&mut self, kind: &str, n: u64) {
        if n > 0 {
            self.issues.entry(kind.to_owned()).or_default().rows += n;
        }
    }

    /// The empty optional fields counted: rows are not counted for them,
    /// so their count is the sum over columns.
    pub fn finish(&mut self) {
        // Stored events come without a file's count of rows.
        self.rows = self.rows.max(self.events);
        if let Some(issue) = self.issues.get_mut("empty-optional-field") {
            issue.rows = issue.columns.values().sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_counted_per_row_and_per_column() {
        let mut s = Source::default();
        assert!(!s.marks(["corrupt-value:user", "corrupt-value:file_path"].into_iter()));
        assert!(s.marks(["duplicate-row:*"].into_iter()));
        assert!(!s.marks(["empty-field:value_name", "empty-field:process_id"].into_iter()));
        s.finish();
        assert_eq!(s.events, 3);
        assert_eq!(s.rows_with_problems, 3);
        assert_eq!(s.issues["corrupt-marker"].rows, 1);
        assert_eq!(s.issues["corrupt-marker"].columns["user"], 1);
        assert_eq!(s.issues["exact-duplicate"].rows, 1);
        assert_eq!(s.issues["empty-required-field"].rows, 1);
        assert_eq!(s.issues["empty-optional-field"].rows, 1);
        assert!(action("pid-reused").starts_with("repaired"));
    }
}
