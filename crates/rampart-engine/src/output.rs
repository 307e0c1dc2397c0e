//! Writing alerts: JSON lines and a JSON array for tools, a severity-grouped
//! table for people, CSV, and a time-ordered timeline CSV of the kind DFIR
//! analysts load into Timeline Explorer or Timesketch.
//!
//! Alert text comes from logs, which attackers write: CSV cells that a
//! spreadsheet would run as a formula are neutralised, and table cells lose
//! their control characters.

use std::io::{self, IsTerminal, Write};

use rampart_detect::{Alert, Level};

/// The shape of alert output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFormat {
    /// One JSON object per line, as alerts come.
    Jsonl,
    /// One JSON array.
    Json,
    /// Grouped by severity, for reading.
    Table,
    /// One row per alert.
    Csv,
    /// One row per alert, ordered by time.
    Timeline,
}

impl AlertFormat {
    /// Whether alerts can be written as they come (the others sort first).
    pub fn streams(self) -> bool {
        matches!(self, AlertFormat::Jsonl | AlertFormat::Csv)
    }
}

/// Writes alerts in one format.
pub struct AlertWriter<W: Write> {
    out: W,
    format: AlertFormat,
    written: u64,
    color: bool,
    /// Alerts of a format that sorts them, until `finish`.
    held: Vec<Alert>,
}

/// The columns of an alert as a CSV row (see [`alert_csv_cells`]).
pub const ALERT_CSV_HEADER: [&str; 12] = [
    "timestamp",
    "severity",
    "rule_id",
    "title",
    "host",
    "user",
    "source_ip",
    "group",
    "count",
    "matched",
    "file",
    "line",
];

/// The timeline's first columns, Timesketch's required ones; the CSV's
/// follow, less its own time.
const TIMELINE_LEAD: [&str; 3] = ["datetime", "timestamp_desc", "message"];

impl<W: Write> AlertWriter<W> {
    /// A writer into `out`; colour only when `terminal` and `NO_COLOR` is unset.
    pub fn new(out: W, format: AlertFormat, terminal: bool) -> Self {
        AlertWriter {
            out,
            format,
            written: 0,
            color: terminal && std::env::var_os("NO_COLOR").is_none(),
            held: Vec::new(),
        }
    }

    /// The format written.
    pub fn format(&self) -> AlertFormat {
        self.format
    }

    /// Keeps an alert to be sorted and written by `finish`.
    pub fn hold(&mut self, alert: Alert) {
        self.held.push(alert);
    }

    /// Whether standard output is a terminal.
    pub fn stdout_is_terminal() -> bool {
        io::stdout().is_terminal()
    }

    /// Writes alerts (sorted as the format wants when it does not stream).
    pub fn write_all(&mut self, alerts: &mut [Alert]) -> io::Result<()> {
        match self.format {
            AlertFormat::Table => {
                alerts.sort_by(|a, b| {
                    b.severity
                        .cmp(&a.severity)
                        .then(a.timestamp.cmp(&b.timestamp))
                });
                let mut current = None;
                for alert in alerts.iter() {
                    if current != Some(alert.severity) {
                        current = Some(alert.severity);
                        let n = alerts
                            .iter()
                            .filter(|a| a.severity == alert.severity)
                            .count();
                        writeln!(
                            self.out,
                            "\n{}",
                            self.paint(
                                alert.severity,
                                &format!("== {} ({n}) ==", alert.severity.as_str().to_uppercase())
                            )
                        )?;
                    }
                    self.table_row(alert)?;
                }
                Ok(())
            }
            AlertFormat::Timeline => {
                alerts.sort_by(|a, b| a.timestamp.cmp(&b.timestamp).then(a.id.cmp(&b.id)));
                for alert in alerts.iter() {
                    self.write(alert)?;
                }
                Ok(())
            }
            _ => {
                for alert in alerts.iter() {
                    self.write(alert)?;
                }
                Ok(())
            }
        }
    }

    /// Writes one alert (streaming formats, or rows already in order).
    pub fn write(&mut self, alert: &Alert) -> io::Result<()> {
        match self.format {
            AlertFormat::Jsonl => {
                alert.write_json(&mut self.out)?;
                self.out.write_all(b"\n")?;
            }
            AlertFormat::Json => {
                self.out
                    .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
                alert.write_json(&mut self.out)?;
            }
            AlertFormat::Csv | AlertFormat::Timeline => {
                if self.written == 0 {
                    self.header()?;
                }
                let row = alert_csv_cells(alert);
                let row = if self.format == AlertFormat::Timeline {
                    timeline_fields(alert, row)
                } else {
                    row
                };
                self.csv_row(&row)?;
            }
            AlertFormat::Table => self.table_row(alert)?,
        }
        self.written += 1;
        Ok(())
    }

    fn header(&mut self) -> io::Result<()> {
        let header: Vec<&str> = if self.format == AlertFormat::Timeline {
            TIMELINE_LEAD
                .into_iter()
                .chain(ALERT_CSV_HEADER.into_iter().skip(1))
                .collect()
        } else {
            ALERT_CSV_HEADER.to_vec()
        };
        let line = csv_line(header)?;
        self.out.write_all(&line)
    }

    fn csv_row(&mut self, cells: &[String]) -> io::Result<()> {
        let line = csv_line(cells.iter().map(String::as_str))?;
        self.out.write_all(&line)
    }

    fn paint(&self, level: Level, text: &str) -> String {
        if !self.color {
            return text.to_owned();
        }
        let code = match level {
            Level::Critical => "1;35",
            Level::High => "1;31",
            Level::Medium => "33",
            Level::Low => "36",
            Level::Informational => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    fn table_row(&mut self, alert: &Alert) -> io::Result<()> {
        let time = alert
            .timestamp
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".into());
        let host = alert.field("host.name").unwrap_or_default();
        // What the alert is about: the fields that identify it, with how many
        // events are behind it; else the fields that matched.
        let mut why: Vec<String> = alert
            .group
            .iter()
            .filter(|(k, _)| k != "host.name")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if why.is_empty() {
            why = alert
                .matched
                .iter()
                .filter_map(|m| Some(format!("{}={}", m.field.as_deref()?, m.value.as_deref()?)))
                .take(2)
                .collect();
        }
        if alert.count > 1 {
            why.insert(0, format!("{} events:", alert.count));
        }
        writeln!(
            self.out,
            "{:<24}  {:<9}  {:<60}  {:<20}  {}  ({}:{})",
            cell(&time, 24),
            self.paint(alert.severity, alert.severity.as_str()),
            cell(&alert.title, 60),
            cell(&host, 20),
            cell(&why.join(" "), 100),
            alert.origin.path,
            alert.origin.line
        )
    }

    /// Writes the held alerts, ends the output (closes the JSON array; a
    /// CSV without alerts still has its header) and flushes.
    pub fn finish(mut self) -> io::Result<()> {
        let mut held = std::mem::take(&mut self.held);
        self.write_all(&mut held)?;
        match self.format {
            AlertFormat::Json => {
                self.out
                    .write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
            }
            AlertFormat::Csv | AlertFormat::Timeline if self.written == 0 => self.header()?,
            _ => {}
        }
        self.out.flush()
    }
}

/// An alert's cells, in [`ALERT_CSV_HEADER`]'s order.
pub fn alert_csv_cells(alert: &Alert) -> Vec<String> {
    let matched: Vec<String> = alert
        .matched
        .iter()
        .map(|m| match (&m.field, &m.value) {
            (Some(f), Some(v)) => format!("{}: {f}={v}", m.search),
            _ => m.search.clone(),
        })
        .collect();
    vec![
        alert.timestamp.map(|t| t.to_string()).unwrap_or_default(),
        alert.severity.as_str().to_owned(),
        alert.rule_id.clone(),
        alert.title.clone(),
        alert.field("host.name").unwrap_or_default(),
        alert.field("user.name").unwrap_or_default(),
        alert.field("source.ip").unwrap_or_default(),
        group_text(alert),
        alert.count.to_string(),
        matched.join("; "),
        alert.origin.path.to_string(),
        alert.origin.line.to_string(),
    ]
}

/// `k=v` for each field that identifies the alert.
fn group_text(alert: &Alert) -> String {
    let pairs: Vec<String> = alert
        .group
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.join(" ")
}

/// A timeline row from a CSV row: the time, what it is, and a message that
/// reads on its own (title and group), then the CSV's columns.
fn timeline_fields(alert: &Alert, csv: Vec<String>) -> Vec<String> {
    let group = group_text(alert);
    let message = if group.is_empty() {
        alert.title.clone()
    } else {
        format!("{} ({group})", alert.title)
    };
    let mut row = vec![csv[0].clone(), "Alert time".to_owned(), message];
    row.extend(csv.into_iter().skip(1));
    row
}

/// One CSV record, quoted as needed, each cell neutralised (below).
pub fn csv_line<'a>(cells: impl IntoIterator<Item = &'a str>) -> io::Result<Vec<u8>> {
    let mut line = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    line.write_record(cells.into_iter().map(|c| neutralise(c).into_owned()))
        .map_err(io::Error::other)?;
    line.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))
}

/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading apostrophe.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Text fit for one table cell: control characters become spaces, long text is cut.
fn cell(text: &str, width: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= width {
        return clean;
    }
    let mut cut: String = clean.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("plain"), "plain");
        assert_eq!(cell("a\u{1b}[31mb\nc", 80), "a [31mb c");
    }
}
