//! The run summary printed on stderr: events per format, what could not be
//! read (with file:line examples), data-quality counts, speed.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use rampart_io::FileReport;

/// Totals over all files of a run.
#[derive(Debug, Default)]
pub struct Summary {
    files: u64,
    bytes: u64,
    events: BTreeMap<&'static str, u64>,
    unparsed: u64,
    quality: BTreeMap<&'static str, u64>,
    examples: Vec<String>,
    errors: Vec<String>,
    unrecognised: Vec<String>,
    /// Files no format reads, read as raw text.
    raw: Vec<String>,
}

/// How many unparsed-line examples the summary shows.
const EXAMPLES: usize = 10;

impl Summary {
    /// Adds one file's report.
    pub fn add(&mut self, report: FileReport) {
        self.files += 1;
        self.bytes += report.bytes;
        let path = report.path.display().to_string();
        if let Some(e) = &report.error {
            self.errors.push(format!("{path}: {e}"));
        }
        if report.format.is_none() && report.error.is_none() && report.lines > 0 {
            self.unrecognised.push(path.clone());
        }
        if report.format == Some("raw") {
            self.raw.push(path.clone());
        }
        for (k, v) in &report.stats.events {
            *self.events.entry(k).or_default() += v;
        }
        for (k, v) in &report.stats.quality {
            *self.quality.entry(k).or_default() += v;
        }
        self.unparsed += report.stats.unparsed;
        for (line, reason) in &report.stats.examples {
            if self.examples.len() < EXAMPLES {
                self.examples.push(format!("{path}:{line}: {reason}"));
            }
        }
    }

    /// Records a problem that is not one file's report (a missing path).
    pub fn error(&mut self, message: String) {
        self.errors.push(message);
    }

    /// Whether some input could not be read.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Prints the summary.
    pub fn print(&self, elapsed: Duration, out: &mut impl Write) -> io::Result<()> {
        let total: u64 = self.events.values().sum();
        let secs = elapsed.as_secs_f64().max(1e-9);
        writeln!(
            out,
            "parsed {} file{} ({:.1} MB) in {:.2} s: {} events ({:.0} events/s, {:.1} MB/s)",
            self.files,
            if self.files == 1 { "" } else { "s" },
            self.bytes as f64 / 1e6,
            secs,
            total,
            total as f64 / secs,
            self.bytes as f64 / 1e6 / secs
        )?;
        for (format, count) in &self.events {
            writeln!(out, "  {format:<24} {count:>10}")?;
        }
        if self.unparsed > 0 {
            writeln!(
                out,
                "lines not understood: {} (first ones below; --dead-letter FILE keeps them all; lines of text are also kept as raw events marked unparsed)",
                self.unparsed
            )?;
            for example in &self.examples {
                writeln!(out, "  {example}")?;
            }
        }
        if !self.quality.is_empty() {
            let parts: Vec<String> = self
                .quality
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            writeln!(
                out,
                "data quality (counts; every event is kept): {}",
                parts.join(", ")
            )?;
        }
        list_files(
            out,
            &self.raw,
            "no known format, lines kept as raw events (--input-format names one; `rampart formats` lists them)",
        )?;
        list_files(
            out,
            &self.unrecognised,
            "format not recognised (try --input-format; `rampart formats` lists them)",
        )?;
        self.print_errors(out)
    }

    /// Prints what could not be read, and nothing else.
    pub fn print_errors(&self, out: &mut impl Write) -> io::Result<()> {
        for error in &self.errors {
            writeln!(out, "error: {error}")?;
        }
        Ok(())
    }
}

/// How many files a summary line names before it counts the rest.
const LISTED_FILES: usize = 10;

/// Names the files that share a note, the first few of them.
fn list_files(out: &mut impl Write, files: &[String], note: &str) -> io::Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    writeln!(out, "{note}:")?;
    for path in files.iter().take(LISTED_FILES) {
        writeln!(out, "  {path}")?;
    }
    if files.len() > LISTED_FILES {
        writeln!(out, "  ... and {} more", files.len() - LISTED_FILES)?;
    }
    Ok(())
}
