//! CSV with a header: Windows event exports, endpoint telemetry tables, and
//! any other table (fields under their column names, plus ECS aliases).
//! Quoted fields may span lines; the delimiter (`,`, `;` or tab) is taken
//! from the header.

use std::borrow::Cow;
use std::sync::Arc;

use rampart_event::Value;

use super::csv_split::Splitter;
use super::endpoint::{EndpointRows, Table};
use super::generic::{map_alias, time_rank, time_value};
use super::services;
use super::windows::{self, Field, WinRecord};
use crate::context::FileContext;
use crate::output::Output;
use crate::text::uint;

/// The longest record accepted (quoted fields can run across lines).
const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// What kind of table a CSV holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvShape {
    /// Windows events with an Event ID column.
    Windows,
    /// Endpoint telemetry (process/network/file/registry tables).
    Endpoint,
    /// Any other table.
    Generic,
}

#[derive(Debug)]
enum Rows {
    Windows(WinColumns),
    /// Microsoft 365's audit export; the `AuditData` column's position.
    M365(usize),
    Endpoint(EndpointRows),
    Generic {
        time_column: Option<usize>,
    },
}

/// Column positions of a Windows export.
#[derive(Debug, Default)]
struct WinColumns {
    id: usize,
    time: Option<usize>,
    computer: Option<usize>,
    channel: Option<usize>,
    provider: Option<usize>,
    message: Option<usize>,
    level: Option<usize>,
}

/// Event data names (normalised) that only Windows exports have.
const WINDOWS_DATA_COLUMNS: &[&str] = &[
    "image",
    "commandline",
    "parentimage",
    "processname",
    "newprocessname",
    "targetusername",
    "subjectusername",
    "logontype",
    "servicename",
    "targetfilename",
    "targetobject",
    "account",
    "accountname",
    "taskcategory",
    "keywords",
];

fn norm(h: &str) -> String {
    h.trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn find(header: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| norm(h) == *n))
}

impl WinColumns {
    fn of(header: &[String]) -> Option<WinColumns> {
        let id = find(header, &["eventid", "eventcode", "id"])?;
        let cols = WinColumns {
            id,
            time: find(
                header,
                &[
                    "timecreated",
                    "utctime",
                    "timegenerated",
                    "dateandtime",
                    "timestamp",
                    "time",
                    "date",
                ],
            ),
            computer: find(
                header,
                &[
                    "computer",
                    "computername",
                    "machinename",
                    "hostname",
                    "host",
                ],
            ),
            channel: find(header, &["channel", "logname", "log"]),
            provider: find(
                header,
                &["providername", "provider", "sourcename", "source"],
            ),
            message: find(header, &["message"]),
            level: find(header, &["level"]),
        };
        // An `Event ID` column alone is not Windows (an S3 access alert
        // export has one): a column of the event record or of a Windows
        // event's data must be there too.
        let described = [
            cols.computer,
            cols.channel,
            cols.provider,
            cols.message,
            cols.level,
        ]
        .iter()
        .any(Option::is_some);
        let event_data = header
            .iter()
            .any(|h| WINDOWS_DATA_COLUMNS.contains(&norm(h).as_str()));
        let named_id = norm(&header[id]) != "id";
        ((named_id && (described || event_data))
            || cols.channel.is_some()
            || cols.provider.is_some())
        .then_some(cols)
    }

    fn used(&self, i: usize) -> bool {
        i == self.id
            || [
                self.time,
                self.computer,
                self.channel,
                self.provider,
                self.message,
                self.level,
            ]
            .contains(&Some(i))
    }
}

/// Reads a CSV file fed line by line.
#[derive(Debug)]
pub struct CsvDecoder {
    forced: Option<CsvShape>,
    delimiter: u8,
    splitter: Option<Splitter>,
    header: Option<Vec<String>>,
    rows: Option<Rows>,
    pending: String,
    pending_line: u64,
    quotes_open: bool,
}

impl CsvDecoder {
    /// A decoder that recognises the table from its header, or reads it as `forced`.
    pub fn new(forced: Option<CsvShape>) -> Self {
        CsvDecoder {
            forced,
            delimiter: b',',
            splitter: None,
            header: None,
            rows: None,
            pending: String::new(),
            pending_line: 0,
            quotes_open: false,
        }
    }

    /// Feeds one line.
    pub fn feed(&mut self, ctx: &FileContext, no: u64, line: &str, out: &mut Output) {
        if self.pending.is_empty() {
            if line.trim().is_empty() {
                out.skipped();
                return;
            }
            self.pending_line = no;
        } else {
            self.pending.push('\n');
        }
        self.pending.push_str(line);
        let quotes = line.bytes().filter(|b| *b == b'"').count();
        if quotes % 2 == 1 {
            self.quotes_open = !self.quotes_open;
        }
        if self.quotes_open {
            if self.pending.len() > MAX_RECORD_BYTES {
                out.unparsed(
                    self.pending_line,
                    "CSV record longer than 1 MiB (unbalanced quote?)",
                    &self.pending,
                );
                self.pending.clear();
                self.quotes_open = false;
            }
            return;
        }
        let text = std::mem::take(&mut self.pending);
        self.record(ctx, self.pending_line, &text, out);
    }

    /// Reports a record left open at the end of the file.
    pub fn finish(&mut self, ctx: &FileContext, out: &mut Output) {
        if !self.pending.is_empty() {
            let text = std::mem::take(&mut self.pending);
            self.quotes_open = false;
            self.record(ctx, self.pending_line, &text, out);
        }
    }

    fn split(&mut self, text: &str) -> Option<Vec<String>> {
        let delimiter = self.delimiter;
        self.splitter
            .get_or_insert_with(|| Splitter::new(delimiter))
            .split(text)
    }

    fn record(&mut self, ctx: &FileContext, no: u64, text: &str, out: &mut Output) {
        if self.header.is_none() {
            self.delimiter = delimiter_of(text);
            self.splitter = None;
            let Some(header) = self.split(text.trim_start_matches('\u{feff}')) else {
                out.unparsed(no, "unreadable CSV header", text);
                return;
            };
            let header: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
            self.rows = Some(self.rows_for(&header));
            self.header = Some(header);
            out.skipped();
            return;
        }
        let Some(mut values) = self.split(text) else {
            out.unparsed(no, "unreadable CSV record", text);
            return;
        };
        let header = self.header.as_ref().expect("header is set above");
        if values.len() != header.len() {
            // A parse error, counted and kept as a dead letter; what the
            // row holds is still kept, its columns read up to the header's
            // width, as an event marked unparsed.
            out.unparsed(
                no,
                format!(
                    "CSV record has {} fields, the header has {}",
                    values.len(),
                    header.len()
                ),
                text,
            );
            values.resize(header.len(), String::new());
            let mut row = Output::default();
            self.row(ctx, no, text, &values, &mut row);
            for event in row.events {
                out.kept_unparsed(event);
            }
            return;
        }
        self.row(ctx, no, text, &values, out);
    }

    /// Reads one record whose fields match the header.
    fn row(&mut self, ctx: &FileContext, no: u64, text: &str, values: &[String], out: &mut Output) {
        let header = self.header.as_ref().expect("header is set before rows");
        match self.rows.as_mut().expect("rows are set with the header") {
            Rows::Endpoint(rows) => rows.row(ctx, no, text, values, out),
            Rows::M365(audit) => {
                services::m365_csv_row(ctx, no, text, header, values, *audit, out);
            }
            Rows::Windows(cols) => {
                let rec = windows_record(cols, header, values, ctx);
                out.event(
                    windows::FORMAT,
                    windows::build(ctx, no, &Arc::from(text), rec),
                );
            }
            Rows::Generic { time_column } => {
                let mut e = ctx.event(no, text);
                for (name, value) in header.iter().zip(values) {
                    if !value.is_empty() {
                        e.insert(name.clone(), value.as_str());
                    }
                }
                if let Some(i) = *time_column {
                    e.timestamp = time_value(&Value::from(values[i].as_str()), &ctx.options.zone);
                }
                for (name, value) in header.iter().zip(values) {
                    map_alias(name, &Value::from(value.as_str()), &mut e);
                }
                e.set_static("event.dataset", "csv");
                e.set_static("event.kind", "event");
                out.event("csv", e);
            }
        }
    }

    fn rows_for(&self, header: &[String]) -> Rows {
        let generic = || Rows::Generic {
            time_column: header
                .iter()
                .enumerate()
                .filter_map(|(i, h)| Some((time_rank(h)?, i)))
                .min()
                .map(|(_, i)| i),
        };
        let windows = WinColumns::of(header);
        let table = Table::of(header);
        if let (None, Some(audit)) = (self.forced, services::is_m365_csv(header)) {
            return Rows::M365(audit);
        }
        match (self.forced, windows, table) {
            (Some(CsvShape::Generic), _, _) => generic(),
            (Some(CsvShape::Windows) | None, Some(cols), _) => Rows::Windows(cols),
            (Some(CsvShape::Endpoint) | None, _, Some(t)) => {
                Rows::Endpoint(EndpointRows::new(t, header.to_vec()))
            }
            _ => generic(),
        }
    }
}

fn windows_record(
    cols: &WinColumns,
    header: &[String],
    values: &[String],
    ctx: &FileContext,
) -> WinRecord<'static> {
    let get = |i: Option<usize>| {
        i.map(|i| values[i].trim())
            .filter(|v| !v.is_empty())
            .map(|v| Cow::Owned(v.to_owned()))
    };
    let mut rec = WinRecord {
        event_id: uint(values[cols.id].trim()).and_then(|n| u32::try_from(n).ok()),
        time: get(cols.time).and_then(|t| crate::timefmt::any(&t, &ctx.options.zone)),
        computer: get(cols.computer),
        channel: get(cols.channel),
        provider: get(cols.provider),
        message: get(cols.message),
        level: get(cols.level).and_then(|l| uint(&l)).map(|n| n as i64),
        ..Default::default()
    };
    for (i, (name, value)) in header.iter().zip(values).enumerate() {
        if !cols.used(i) && !value.is_empty() {
            rec.data.push((
                Cow::Owned(name.clone()),
                Field::Text(Cow::Owned(value.clone())),
            ));
        }
    }
    rec
}

/// The delimiter a header line uses most, outside quotes.
fn delimiter_of(header: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in header.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3)
        .max_by_key(|i| (counts[*i], std::cmp::Reverse(*i)))
        .unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// Whether a sample looks like CSV with a header: the first records split
/// into the same number (≥ 2) of fields.
pub fn looks_like_csv(lines: &[&str]) -> bool {
    let mut lines = lines.iter().filter(|l| !l.trim().is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    let delimiter = delimiter_of(first);
    let count = |l: &str| {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(l.as_bytes())
            .records()
            .next()
            .and_then(Result::ok)
            .map_or(0, |r| r.len())
    };
    let width = count(first);
    if width < 2 {
        return false;
    }
    let header_ok = first
        .split(delimiter as char)
        .all(|h| !h.trim().is_empty() && h.len() < 64 && h.matches(' ').count() <= 3);
    let rows: Vec<usize> = lines.take(8).map(|l| count(l)).collect();
    header_ok && (rows.is_empty() || rows.iter().filter(|n| **n == width).count() * 2 >= rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn run(lines: &[&str]) -> Output {
        let ctx = FileContext::new("x.csv", ParseOptions::default());
        let mut d = CsvDecoder::new(None);
        let mut out = Output::default();
        for (i, l) in lines.iter().enumerate() {
            d.feed(&ctx, i as u64 + 1, l, &mut out);
        }
        d.finish(&ctx, &mut out);
        out
    }

    #[test]
    fn windows_exports_are_recognised() {
        let out = run(&[
            "EventID,UtcTime,Image,ProcessName,CommandLine",
            "1,2024-01-15 09:30:15.123,C:\\Windows\\System32\\cmd.exe,cmd.exe,\"cmd.exe /c \"\"dir\"\", x\"",
        ]);
        let e = &out.events[0];
        assert_eq!(e.get_str("event.dataset"), Some("windows.sysmon"));
        assert_eq!(
            e.get_str("process.command_line"),
            Some("cmd.exe /c \"dir\", x")
        );
        assert_eq!(e.timestamp.unwrap().to_string(), "2024-01-15T09:30:15.123Z");
    }

    #[test]
    fn quoted_newlines_and_width_errors() {
        let out = run(&[
            "time;user;note",
            "2025-03-14 10:00:00;bob;\"two",
            "lines\"",
            "x;y",
        ]);
        assert_eq!(out.events[0].get_str("note"), Some("two\nlines"));
        assert_eq!(out.events[0].get_str("user.name"), Some("bob"));
        // The short row is a parse error, and what it holds is kept.
        assert_eq!(out.stats.unparsed, 1);
        assert_eq!(out.dead[0].line, 4);
        assert_eq!(
            out.stats.total_events(),
            1,
            "only the whole row counts as an event"
        );
        assert_eq!(out.events.len(), 2);
        let short = &out.events[1];
        assert_eq!(short.get_str("time"), Some("x"));
        assert_eq!(short.get_str("user.name"), Some("y"));
        assert_eq!(
            crate::output::quality_marks(short),
            Vec::<&str>::new(),
            "unparsed is no data-quality count"
        );
        assert_eq!(
            short.get("rampart.quality").unwrap().to_string(),
            "unparsed"
        );
    }

    #[test]
    fn csv_sniffing() {
        assert!(looks_like_csv(&["a,b,c", "1,2,3", "4,5,6"]));
        assert!(!looks_like_csv(&[
            "Mar 14 03:22:14 web01 sshd[1]: Failed password, sure"
        ]));
    }
}
