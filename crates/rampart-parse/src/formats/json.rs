//! JSON logs: one object per line, pretty-printed objects, or a top-level
//! array. Each object is recognised on its own (evtx_dump, Winlogbeat,
//! flattened Windows, Suricata EVE, Zeek, or generic), so a file that mixes
//! them still reads right.

use std::borrow::Cow;
use std::sync::Arc;

use rampart_event::{Event, Timestamp, Value};
use serde_json::{Map, Value as Json};

use super::windows::{self, Field, WinRecord};
use super::{generic, journal, services, suricata, syslog, zeek};
use crate::context::FileContext;
use crate::output::Output;
use crate::text::uint;

/// The largest single JSON value accepted.
const MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;

/// The shapes of JSON object rampart recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `evtx_dump` output: `{"Event": {"System": .., "EventData": ..}}`.
    EvtxDump,
    /// Winlogbeat: `{"winlog": {"channel": .., "event_data": ..}}`.
    Winlogbeat,
    /// Flattened Windows events: `{"EventID": .., "Channel": .., ...}`.
    WindowsFlat,
    /// Suricata EVE.
    Suricata,
    /// Zeek JSON logs.
    Zeek,
    /// Syslog messages exported as JSON (Azure Monitor's `Syslog` table).
    Syslog,
    /// A cloud, identity or platform service's audit record.
    Service(services::Service),
    /// A systemd journal entry (`journalctl -o json`).
    Journal,
    /// Anything else.
    Generic,
}

/// Recognises the shape of one object.
pub fn shape_of(o: &Map<String, Json>) -> Shape {
    if o.get("Event").and_then(|e| e.get("System")).is_some() {
        Shape::EvtxDump
    } else if o.get("winlog").is_some_and(Json::is_object) {
        Shape::Winlogbeat
    } else if o.contains_key("event_type")
        && (o.contains_key("src_ip") || o.contains_key("flow_id"))
    {
        Shape::Suricata
    } else if zeek::is_zeek_json(o) {
        Shape::Zeek
    } else if syslog::exported::is_exported(o) {
        Shape::Syslog
    } else if journal::is_json_entry(o) {
        Shape::Journal
    } else if let Some(service) = services::recognise(o) {
        Shape::Service(service)
    } else if o.contains_key("EventID")
        && ["Channel", "SourceName", "ProviderName", "Provider"]
            .iter()
            .any(|k| o.contains_key(*k))
    {
        Shape::WindowsFlat
    } else {
        Shape::Generic
    }
}

/// Splits a JSON text fed line by line into complete values.
#[derive(Debug, Default)]
pub struct JsonDecoder {
    forced: Option<Shape>,
    buf: Vec<u8>,
    depth: u32,
    in_string: bool,
    escaped: bool,
    in_array: bool,
    start_line: u64,
}

impl JsonDecoder {
    /// A decoder that recognises each object, or reads all as `forced`.
    pub fn new(forced: Option<Shape>) -> Self {
        JsonDecoder {
            forced,
            ..Default::default()
        }
    }

    fn idle(&self) -> bool {
        self.buf.is_empty() && self.depth == 0 && !self.in_array
    }

    /// Feeds one line.
    pub fn feed(&mut self, ctx: &FileContext, no: u64, line: &str, out: &mut Output) {
        let trimmed = line.trim();
        if self.idle() {
            if trimmed.is_empty() {
                out.skipped();
                return;
            }
            if trimmed.starts_with('{') && trimmed.ends_with('}') {
                if let Ok(Json::Object(o)) = serde_json::from_str::<Json>(trimmed) {
                    self.object(ctx, no, line, &o, out);
                    return;
                }
            }
            if !trimmed.starts_with(['{', '[']) {
                if is_record_header(trimmed) {
                    out.skipped();
                } else {
                    out.unparsed(no, "not JSON", line);
                }
                return;
            }
        }
        let mut junk = false;
        for &b in line.as_bytes() {
            if self.in_string {
                self.buf.push(b);
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'[' if self.depth == 0 && !self.in_array => self.in_array = true,
                b']' if self.depth == 0 && self.in_array => self.in_array = false,
                b'{' | b'[' => {
                    if self.depth == 0 {
                        self.start_line = no;
                    }
                    self.depth += 1;
                    self.buf.push(b);
                }
                b'}' | b']' if self.depth > 0 => {
                    self.depth -= 1;
                    self.buf.push(b);
                    if self.depth == 0 {
                        self.complete(ctx, out);
                    }
                }
                b'"' if self.depth > 0 => {
                    self.in_string = true;
                    self.buf.push(b);
                }
                b',' | b' ' | b'\t' | b'\r' if self.depth == 0 => {}
                _ if self.depth > 0 => self.buf.push(b),
                _ => junk = true,
            }
        }
        if self.depth > 0 {
            self.buf.push(b'\n');
        }
        if junk {
            out.unparsed(no, "text outside any JSON value", line);
        }
        if self.buf.len() > MAX_VALUE_BYTES {
            out.unparsed(
                self.start_line,
                "JSON value longer than 16 MiB",
                &String::from_utf8_lossy(&self.buf[..4096]),
            );
            *self = JsonDecoder::new(self.forced);
        }
    }

    fn complete(&mut self, ctx: &FileContext, out: &mut Output) {
        let buf = std::mem::take(&mut self.buf);
        let text = String::from_utf8_lossy(&buf);
        match serde_json::from_str::<Json>(&text) {
            Ok(Json::Object(o)) => self.object(ctx, self.start_line, &text, &o, out),
            Ok(Json::Array(items)) => {
                for item in items {
                    match item {
                        Json::Object(o) => self.object(ctx, self.start_line, &text, &o, out),
                        other => out.unparsed(
                            self.start_line,
                            "JSON array item is not an object",
                            &other.to_string(),
                        ),
                    }
                }
            }
            Ok(_) => out.unparsed(self.start_line, "JSON value is not an object", &text),
            Err(e) => out.unparsed(self.start_line, format!("invalid JSON: {e}"), &text),
        }
    }

    /// Reports a value left open at the end of the file.
    pub fn finish(&mut self, out: &mut Output) {
        if !self.buf.is_empty() {
            out.unparsed(
                self.start_line,
                "JSON value cut off at end of file",
                &String::from_utf8_lossy(&self.buf),
            );
        }
        *self = JsonDecoder::new(self.forced);
    }

    fn object(
        &self,
        ctx: &FileContext,
        no: u64,
        original: &str,
        o: &Map<String, Json>,
        out: &mut Output,
    ) {
        let original = original.trim();
        if let Some(records) = services::unwrap(o).filter(|_| self.forced.is_none()) {
            for record in records {
                if let Json::Object(r) = record {
                    self.object(ctx, no, &record.to_string(), r, out);
                }
            }
            return;
        }
        match self.forced.unwrap_or_else(|| shape_of(o)) {
            Shape::EvtxDump => match evtx_record_text(ctx, no, &Arc::from(original)) {
                Some(event) => out.event(windows::FORMAT, event),
                None => out.unparsed(no, "not an evtx_dump event", original),
            },
            Shape::Winlogbeat => match winlogbeat(o, ctx) {
                Some(rec) => out.event(
                    windows::FORMAT,
                    windows::build(ctx, no, &Arc::from(original), rec),
                ),
                None => out.unparsed(no, "not a Winlogbeat event", original),
            },
            Shape::WindowsFlat => {
                let rec = windows_flat(o, ctx);
                out.event(
                    windows::FORMAT,
                    windows::build(ctx, no, &Arc::from(original), rec),
                );
            }
            Shape::Suricata => out.event(suricata::FORMAT, suricata::event(ctx, no, original, o)),
            Shape::Zeek => {
                let fields = o.iter().map(|(k, v)| (k.clone(), Value::from(v))).collect();
                out.event(
                    zeek::FORMAT,
                    zeek::event(ctx, no, original, zeek::path_of_json(o, ctx), fields),
                );
            }
            Shape::Syslog => {
                let (dataset, event) = syslog::exported::event(ctx, no, original, o);
                out.event(dataset, event);
            }
            Shape::Journal => {
                let fields = journal::json_fields(o);
                let (dataset, event) = journal::event(ctx, no, &Arc::from(original), &fields);
                out.event(dataset, event);
            }
            Shape::Service(service) => {
                let (dataset, event) = services::event(service, ctx, no, original, o);
                out.event(dataset, event);
            }
            Shape::Generic => out.event("json", generic::json_event(ctx, no, original, o)),
        }
    }
}

/// `Record 12` lines that evtx_dump prints between pretty objects.
fn is_record_header(line: &str) -> bool {
    line.strip_prefix("Record ")
        .is_some_and(|n| uint(n).is_some())
}

fn as_text(v: &Json) -> Option<Cow<'static, str>> {
    match v {
        Json::String(s) => Some(Cow::Owned(s.clone())),
        Json::Number(n) => Some(Cow::Owned(n.to_string())),
        Json::Object(_) => v.get("#text").and_then(as_text),
        _ => None,
    }
}

fn as_u64(v: &Json) -> Option<u64> {
    match v {
        Json::Number(n) => n.as_u64(),
        Json::String(s) => uint(s.trim()),
        Json::Object(_) => v.get("#text").and_then(as_u64),
        _ => None,
    }
}

fn time(v: Option<&Json>, ctx: &FileContext) -> Option<Timestamp> {
    let s = v?.as_str()?;
    crate::timefmt::any(s, &ctx.options.zone)
}

/// Event data values: text stays text, numbers stay numbers.
fn data_fields(data: &Json, into: &mut Vec<(Cow<'static, str>, Field<'static>)>) {
    let Some(o) = data.as_object() else { return };
    for (k, v) in o {
        if k == "#attributes" {
            continue;
        }
        match v {
            Json::Object(inner) if inner.contains_key("#text") => {
                into.push((Cow::Owned(k.clone()), Value::from(&inner["#text"]).into()));
            }
            // UserData wraps its fields in one more element.
            Json::Object(_) => data_fields(v, into),
            Json::Array(items) if k == "Data" => {
                for (i, item) in items.iter().enumerate() {
                    into.push((Cow::Owned(format!("Data{i}")), Value::from(item).into()));
                }
            }
            other => into.push((Cow::Owned(k.clone()), Value::from(other).into())),
        }
    }
}

/// The event of one record exported as evtx_dump JSON (`Event.System`,
/// `Event.EventData`); `None` when the text is not a Windows event. Fields
/// are ranges of `text` where JSON left them unescaped.
fn evtx_record_text(ctx: &FileContext, no: u64, text: &Arc<str>) -> Option<Event> {
    let rec = windows::evtx_json::record(text, ctx)?;
    Some(windows::build(ctx, no, text, rec))
}

fn winlogbeat(o: &Map<String, Json>, ctx: &FileContext) -> Option<WinRecord<'static>> {
    let w = o.get("winlog")?;
    let mut rec = WinRecord {
        provider: w.get("provider_name").and_then(as_text),
        event_id: w
            .get("event_id")
            .and_then(as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        channel: w.get("channel").and_then(as_text),
        computer: w
            .get("computer_name")
            .and_then(as_text)
            .or_else(|| o.get("host").and_then(|h| h.get("name")).and_then(as_text)),
        record_id: w.get("record_id").and_then(as_u64),
        time: time(o.get("@timestamp"), ctx),
        pid: w.get("process").and_then(|p| p.get("pid")).and_then(as_u64),
        tid: w
            .get("process")
            .and_then(|p| p.get("thread"))
            .and_then(|t| t.get("id"))
            .and_then(as_u64),
        user_sid: w
            .get("user")
            .and_then(|u| u.get("identifier"))
            .and_then(as_text),
        message: o.get("message").and_then(as_text),
        ..Default::default()
    };
    if let Some(l) = w.get("level").and_then(as_text) {
        rec.level = match l.to_ascii_lowercase().as_str() {
            "critical" => Some(1),
            "error" => Some(2),
            "warning" => Some(3),
            "verbose" => Some(5),
            _ => Some(4),
        };
    }
    if let Some(data) = w.get("event_data") {
        data_fields(data, &mut rec.data);
    }
    if let Some(data) = w.get("user_data") {
        data_fields(data, &mut rec.data);
    }
    Some(rec)
}

/// Keys of flattened exports that describe the record rather than the event.
const FLAT_SYSTEM_KEYS: &[&str] = &[
    "EventID",
    "Channel",
    "SourceName",
    "ProviderName",
    "Provider",
    "Hostname",
    "Computer",
    "TimeCreated",
    "@timestamp",
    "EventTime",
    "Message",
    "Level",
    "RecordNumber",
    "EventRecordID",
    "ExecutionProcessID",
    "ExecutionThreadID",
    "ProviderGuid",
    "Task",
    "Keywords",
    "Opcode",
    "@version",
    "Version",
];

fn windows_flat(o: &Map<String, Json>, ctx: &FileContext) -> WinRecord<'static> {
    let text = |k: &str| o.get(k).and_then(as_text);
    let mut rec = WinRecord {
        event_id: o
            .get("EventID")
            .and_then(as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        channel: text("Channel"),
        provider: text("SourceName")
            .or_else(|| text("ProviderName"))
            .or_else(|| text("Provider")),
        computer: text("Hostname").or_else(|| text("Computer")),
        time: time(o.get("TimeCreated"), ctx)
            .or_else(|| time(o.get("@timestamp"), ctx))
            .or_else(|| time(o.get("EventTime"), ctx)),
        level: o.get("Level").and_then(as_u64).map(|n| n as i64),
        record_id: o
            .get("RecordNumber")
            .or_else(|| o.get("EventRecordID"))
            .and_then(as_u64),
        pid: o.get("ExecutionProcessID").and_then(as_u64),
        tid: o.get("ExecutionThreadID").and_then(as_u64),
        message: text("Message"),
        ..Default::default()
    };
    for (k, v) in o {
        if !FLAT_SYSTEM_KEYS.contains(&k.as_str()) {
            rec.data
                .push((Cow::Owned(k.clone()), Value::from(v).into()));
        }
    }
    rec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseOptions;

    fn run(lines: &[&str]) -> Output {
        let ctx = FileContext::new("x.json", ParseOptions::default());
        let mut d = JsonDecoder::new(None);
        let mut out = Output::default();
        for (i, l) in lines.iter().enumerate() {
            d.feed(&ctx, i as u64 + 1, l, &mut out);
        }
        d.finish(&mut out);
        out
    }

    #[test]
    fn pretty_objects_and_arrays_split_into_events() {
        let out = run(&[
            "[",
            "  {\"a\": \"x}\",",
            "   \"b\": [1,2]},",
            "  {\"a\": 2}",
            "]",
            "Record 7",
            "{\"c\": 3}",
        ]);
        assert_eq!(out.events.len(), 3);
        assert_eq!(out.events[0].get_str("a"), Some("x}"));
        assert_eq!(out.events[0].origin.line, 2);
        assert_eq!(out.events[2].origin.line, 7);
        assert_eq!(out.stats.unparsed, 0);
    }

    #[test]
    fn evtx_dump_shape() {
        let line = r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Service Control Manager"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},"Channel":"System","Computer":"WS01","TimeCreated":{"#attributes":{"SystemTime":"2025-03-14T12:04:40.123456Z"}}},"EventData":{"ServiceName":"updsvc","ImagePath":"C:\\x.exe"}}}"##;
        let out = run(&[line]);
        let e = &out.events[0];
        assert_eq!(e.get_str("service.name"), Some("updsvc"));
        assert_eq!(e.get_str("event.code"), Some("7045"));
        assert_eq!(e.get_str("host.name"), Some("WS01"));
    }

    #[test]
    fn broken_json_is_a_dead_letter_and_the_next_line_reads() {
        let out = run(&["{\"a\": 1", "}", "{\"b\": tru}", "{\"c\": 1}"]);
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.stats.unparsed, 1);
    }
}
