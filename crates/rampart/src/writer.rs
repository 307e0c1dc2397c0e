//! Writing events as JSON lines, a JSON array, or a table for people.

use std::io::{self, Write};

use rampart_event::Event;

/// The shape of event output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// One nested ECS JSON object per line.
    Jsonl,
    /// One JSON array of objects.
    Json,
    /// Aligned columns with the fields an analyst scans first.
    Table,
}

/// Streams events to a writer.
pub struct EventWriter<W: Write> {
    out: W,
    format: OutputFormat,
    count: u64,
    buf: Vec<u8>,
}

/// The widest a table cell gets before it is cut.
const CELL: usize = 60;

impl<W: Write> EventWriter<W> {
    /// A writer of `format` into `out`.
    pub fn new(out: W, format: OutputFormat) -> Self {
        EventWriter {
            out,
            format,
            count: 0,
            buf: Vec::with_capacity(1024),
        }
    }

    /// Writes one event.
    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        self.buf.clear();
        match self.format {
            OutputFormat::Jsonl => {
                event.write_json(&mut self.buf);
                self.buf.push(b'\n');
            }
            OutputFormat::Json => {
                self.buf
                    .extend_from_slice(if self.count == 0 { b"[\n" } else { b",\n" });
                event.write_json(&mut self.buf);
            }
            OutputFormat::Table => {
                if self.count == 0 {
                    writeln!(
                        self.buf,
                        "{:<24}  {:<18}  {:<15}  {:<39}  {:<16}  {:<22}  MESSAGE",
                        "TIMESTAMP", "DATASET", "HOST", "SOURCE", "USER", "ACTION"
                    )?;
                }
                table_row(event, &mut self.buf)?;
            }
        }
        self.count += 1;
        self.out.write_all(&self.buf)
    }

    /// Closes the output (the JSON array) and flushes.
    pub fn finish(mut self) -> io::Result<()> {
        if self.format == OutputFormat::Json {
            self.out
                .write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()
    }
}

/// Text fit for one table cell: control characters shown as spaces, cut to a width.
fn cell(text: &str, width: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(width)
        .collect();
    if text.chars().count() > width {
        out.pop();
        out.push('…');
    }
    out
}

fn table_row(e: &Event, out: &mut Vec<u8>) -> io::Result<()> {
    let get = |name: &str| e.get(name).map(|v| v.to_string()).unwrap_or_default();
    let time = e
        .timestamp
        .map(|t| t.to_string())
        .unwrap_or_else(|| "-".to_owned());
    let source = match (get("source.ip"), get("source.port")) {
        (ip, _) if ip.is_empty() => get("source.domain"),
        (ip, port) if port.is_empty() => ip,
        (ip, port) => format!("{ip}:{port}"),
    };
    let action = match (get("event.action"), get("event.outcome")) {
        (a, o) if o.is_empty() => a,
        (a, o) => format!("{a} {o}"),
    };
    let message = [
        get("message"),
        get("rule.name"),
        get("url.original"),
        get("process.command_line"),
    ]
    .into_iter()
    .find(|m| !m.is_empty())
    .unwrap_or_default();
    writeln!(
        out,
        "{:<24}  {:<18}  {:<15}  {:<39}  {:<16}  {:<22}  {}",
        cell(&time, 24),
        cell(&get("event.dataset"), 18),
        cell(&get("host.name"), 15),
        cell(&source, 39),
        cell(&get("user.name"), 16),
        cell(&action, 22),
        cell(&message, CELL * 2)
    )
}
