//! `rampart events`: searching the stored events by field conditions and
//! free text (see the query language in `rampart-store`), newest first,
//! or counting them per value of a field.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use rampart_engine::output::{csv_line, neutralise};

use super::list_format::{cell_time, ListFormat};
use rampart_event::Timestamp;
use rampart_store::{parse_query, EventQuery, Expr, StoredEvent};

/// Arguments of `rampart events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// What to find: `field=value` (`*` and `?` as wildcards, `net/len` for
    /// address ranges), `!=`, `<`, `<=`, `>`, `>=`, `field in (a, b)`, free
    /// text (quoted for several words), combined with and, or, not and
    /// parentheses. Everything when left out.
    #[arg(long, short)]
    query: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    since: Option<Timestamp>,
    /// Only events before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    until: Option<Timestamp>,
    /// The most to list, newest first (or the most values to count).
    #[arg(long, default_value_t = 100)]
    limit: u64,
    /// Count the events found per value of this field instead, most first.
    #[arg(long, value_name = "FIELD")]
    count_by: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

/// Runs the command: exit code 2 when the query does not read.
pub fn run(args: &EventsArgs, db: &Path) -> anyhow::Result<ExitCode> {
    let expr = match read_query(args.query.as_deref()) {
        Ok(expr) => expr,
        Err(code) => return Ok(code),
    };
    let store = super::backend::open(db)?;
    let query = EventQuery {
        expr,
        since: args.since,
        until: args.until,
        limit: Some(args.limit),
        ..EventQuery::default()
    };
    let mut out = std::io::stdout().lock();
    if let Some(field) = &args.count_by {
        let counts = match store.count_by(&query, field, args.limit) {
            Ok(counts) => counts,
            Err(e) => return bad_query(&e.to_string()),
        };
        for (value, n) in counts {
            writeln!(out, "{n:>10}  {}", value.as_deref().unwrap_or("(none)"))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut output = EventOutput::new(out, args.format)?;
    let mut failed = None;
    let found = store.each_event(&query, &mut |e| {
        output.write(&e).map_err(|e| failed = Some(e)).is_ok()
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if let Err(e) = found {
        return bad_query(&e.to_string());
    }
    output.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// Reads `--query`; one that does not read is bad usage: the reason and
/// where it went wrong are printed and exit code 2 returned.
pub fn read_query(query: Option<&str>) -> Result<Option<Expr>, ExitCode> {
    let Some(text) = query else {
        return Ok(None);
    };
    parse_query(text).map(Some).map_err(|e| {
        eprintln!("error: the query, {e}");
        eprintln!("  {text}\n  {:>width$}", "^", width = e.column);
        ExitCode::from(2)
    })
}

/// A query the store refused (a value of the wrong kind) is bad usage.
fn bad_query(why: &str) -> anyhow::Result<ExitCode> {
    if why.starts_with("column ") {
        eprintln!("error: the query, {why}");
        return Ok(ExitCode::from(2));
    }
    bail!("{why}")
}

/// The fields a table shows, from an event's JSON.
const COLUMNS: [&str; 5] = [
    "event.dataset",
    "host.name",
    "source.ip",
    "user.name",
    "message",
];

/// The text of a field of an event's JSON by dotted name (empty when absent).
pub fn field(doc: &serde_json::Value, name: &str) -> String {
    let mut at = doc;
    for part in name.split('.') {
        match at.get(part) {
            Some(next) => at = next,
            None => return String::new(),
        }
    }
    match at {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Events written one at a time as `format`, so an export of millions
/// holds one in memory.
pub struct EventOutput<W: Write> {
    out: W,
    format: ListFormat,
    written: u64,
}

impl<W: Write> EventOutput<W> {
    /// Starts writing `format` to `out`.
    pub fn new(out: W, format: ListFormat) -> anyhow::Result<Self> {
        let mut output = EventOutput {
            out,
            format,
            written: 0,
        };
        match format {
            ListFormat::Csv => {
                let header = csv_line(["timestamp"].into_iter().chain(COLUMNS))?;
                output.out.write_all(&header)?;
            }
            ListFormat::Json => output.out.write_all(b"[")?,
            ListFormat::Jsonl | ListFormat::Table => {}
        }
        Ok(output)
    }

    /// Writes one event.
    pub fn write(&mut self, e: &StoredEvent) -> anyhow::Result<()> {
        let doc = || serde_json::from_str::<serde_json::Value>(&e.doc).unwrap_or_default();
        match self.format {
            ListFormat::Jsonl => writeln!(self.out, "{}", e.doc)?,
            ListFormat::Json => {
                let sep = if self.written == 0 { "\n" } else { ",\n" };
                write!(self.out, "{sep}{}", e.doc)?;
            }
            ListFormat::Csv => {
                let doc = doc();
                let time = e.time.map(|t| t.to_string()).unwrap_or_default();
                let cells: Vec<String> = std::iter::once(time)
                    .chain(COLUMNS.iter().map(|c| field(&doc, c)))
                    .collect();
                let safe: Vec<_> = cells.iter().map(|c| neutralise(c)).collect();
                self.out
                    .write_all(&csv_line(safe.iter().map(|c| c.as_ref()))?)?;
            }
            ListFormat::Table => {
                let doc = doc();
                let time = cell_time(e.time);
                let cells: Vec<String> = COLUMNS
                    .iter()
                    .map(|c| {
                        field(&doc, c)
                            .chars()
                            .filter(|ch| !ch.is_control())
                            .take(if *c == "message" { 90 } else { 24 })
                            .collect()
                    })
                    .collect();
                writeln!(
                    self.out,
                    "{time:<19}  {:<14}  {:<12}  {:<15}  {:<12}  {}",
                    cells[0], cells[1], cells[2], cells[3], cells[4]
                )?;
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Ends the output; returns how many events were written.
    pub fn finish(mut self) -> anyhow::Result<u64> {
        match self.format {
            ListFormat::Json if self.written == 0 => self.out.write_all(b"]\n")?,
            ListFormat::Json => self.out.write_all(b"\n]\n")?,
            ListFormat::Table if self.written == 0 => writeln!(self.out, "no events match")?,
            _ => {}
        }
        self.out.flush()?;
        Ok(self.written)
    }
}
